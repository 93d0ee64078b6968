"""The body of a claim whose endpoint takes another payload format than standard: what the format needs is read
(only then: the standard path reads nothing more) and the body rendered, once per attempt, at send time."""

import json

from sqlalchemy import bindparam, select

from app.delivery import formats
from app.extensions import db
from app.models import Endpoint, Message, MessageTag

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
