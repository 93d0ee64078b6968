"""The request of a claim: its body (the payload, or what the endpoint's payload format makes of it) and the
headers signing it. A non-standard format's needs are read only then (the standard path reads nothing more), and
its body is rendered once per attempt, at send time, so the signature covers the bytes sent."""

import json
import time

from sqlalchemy import bindparam, select

from app.credentials.crypto import decrypt_headers
from app.credentials.rotation import live_secrets
from app.delivery import formats
from app.delivery.attempt import sender, signing
from app.errors import SecretUnavailable
from app.extensions import db
from app.models import Endpoint, Message, MessageTag, PayloadFormat

_READ = (select(Message.event_type, Message.created_at, Message.reference, Endpoint.payload_template,
                Endpoint.payload_content_type)
         .join(Endpoint, Endpoint.id == bindparam("endpoint_id")).where(Message.id == bindparam("message_id")))
_TAGS = select(MessageTag.tag).where(MessageTag.message_id == bindparam("message_id"))


def formatted_body(row):
    """Return (body bytes, content type) for a CLAIM_COLUMNS row of a non-standard format; raise
    formats.TemplateFailed when the body cannot be made. Ends its read (no connection is held while sending)."""
    params = {"message_id": row.message_id, "endpoint_id": row.endpoint_id}
    try:
        found = db.session.execute(_READ, params).one()
        tags = db.session.execute(_TAGS, params).scalars().all()
    finally:
        db.session.rollback()
    variables = formats.event_variables(event_type=found.event_type, message_id=row.message_id,
                                        created_at=found.created_at, reference=found.reference, tags=tags,
                                        payload=json.loads(row.payload))
    body = formats.render_body(row.payload_format, found.payload_content_type, found.payload_template, variables)
    return body, found.payload_content_type.value


def signed_request(row, now):
    """Return (body bytes, body text when a format made it else None, headers, config error or None) for a
    CLAIM_COLUMNS row; nothing is to be sent when there is a config error."""
    body, formatted, content_type = row.payload.encode(), None, {}
    try:
        if row.payload_format is not PayloadFormat.STANDARD:
            body, media_type = formatted_body(row)
            formatted, content_type = body.decode("utf-8", "replace"), {"Content-Type": media_type}
        signed = signing.sign(row.signing, live_secrets(row, now), row.message_id, int(time.time()), body)
        headers = {**sender.BASE_HEADERS, **content_type, **decrypt_headers(row.headers_encrypted), **signed}
    except SecretUnavailable as exc:
        return body, None, {}, exc.message
    except formats.TemplateFailed as exc:
        return body, None, {}, f"payload format {row.payload_format.value}: {exc.message}"
    return body, formatted, headers, None
