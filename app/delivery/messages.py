"""Create messages and fan them out to deliveries, inside the caller's transaction."""

import json

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.delivery import matching
from app.delivery.handles import store_handles
from app.delivery.outbox import enqueue_after_commit
from app.errors import InvalidInput, NotFound, PayloadTooLarge
from app.extensions import db
from app.models import Delivery, Endpoint, EndpointState, Message, MessageTag, utcnow

#: Endpoints in these states receive new deliveries; a paused endpoint holds them until resumed.
RECEIVING_STATES = (EndpointState.ENABLED, EndpointState.PAUSED)
#: At most this many tags on one message, each at most 200 characters.
MAX_TAGS = 50


def encode_payload(payload):
    """Serialise a payload to the exact bytes that will be signed and sent."""
    if not isinstance(payload, dict):
        raise InvalidInput("payload must be a JSON object", field="payload")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    limit = current_app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    size = len(body.encode())
    if size > limit:
        raise PayloadTooLarge(f"payload is {size} bytes; the limit is {limit} bytes", field="payload")
    return body


def check_tags(tags):
    """Return a de-duplicated list of valid tags or raise InvalidInput."""
    tags = tags or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidInput(f"tags must be a list of at most {MAX_TAGS} strings", field="tags")
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 200:
            raise InvalidInput("each tag must be a non-empty string of at most 200 characters", field="tags")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def _check_short_text(value, field):
    if value is not None and (not isinstance(value, str) or not value or len(value) > 200):
        raise InvalidInput(f"{field} must be a non-empty string of at most 200 characters", field=field)
    return value


def _receiving_endpoints(session, event_type, endpoint_ids):
    """The ids of the endpoints this event goes to (columns only: it runs for every message)."""
    query = select(Endpoint.id, Endpoint.event_types).where(Endpoint.state.in_(RECEIVING_STATES),
                                                           Endpoint.deleted_at.is_(None))
    if endpoint_ids is not None:
        if not isinstance(endpoint_ids, list) or not all(isinstance(i, str) for i in endpoint_ids):
            raise InvalidInput("endpoint_ids must be a list of endpoint ids", field="endpoint_ids")
        known = set(session.scalars(select(Endpoint.id).where(Endpoint.id.in_(endpoint_ids))))
        unknown = [i for i in endpoint_ids if i not in known]
        if unknown:
            raise InvalidInput(f"unknown endpoint ids: {', '.join(unknown)}", field="endpoint_ids")
        query = query.where(Endpoint.id.in_(endpoint_ids))
    rows = session.execute(query.order_by(Endpoint.created_at))
    return [row.id for row in rows if matching.matches(row.event_types, event_type)]


def find_by_idempotency_key(key, session=None):
    """Return the message created with this idempotency key, if any."""
    return (session or db.session).scalar(select(Message).where(Message.idempotency_key == key))


def send_message(event_type, payload, *, reference=None, tags=None, idempotency_key=None, endpoint_ids=None,
                 session=None):
    """Create a message and a delivery per matching endpoint in the caller's transaction.

    Returns (message, created). Nothing is sent until the caller commits; a rollback sends nothing.
    With an idempotency key already used, returns the first message and creates nothing.
    """
    session = session or db.session
    matching.check_event_type(event_type)
    body = encode_payload(payload)
    tags = check_tags(tags)
    _check_short_text(reference, "reference")
    _check_short_text(idempotency_key, "idempotency_key")
    if idempotency_key and (existing := find_by_idempotency_key(idempotency_key, session)):
        return existing, False
    endpoint_ids = _receiving_endpoints(session, event_type, endpoint_ids)
    now = utcnow()
    message = Message(event_type=event_type, payload=body, reference=reference, idempotency_key=idempotency_key,
                      created_at=now, tag_rows=[MessageTag(tag=t) for t in tags])
    deliveries = [
        Delivery(message=message, endpoint_id=endpoint_id, event_type=event_type, next_attempt_at=now, created_at=now)
        for endpoint_id in endpoint_ids
    ]
    if not idempotency_key:
        session.add_all([message, *deliveries])
        session.flush()
    else:
        try:
            with session.begin_nested():  # a concurrent insert of the same key must not break the caller's
                session.add_all([message, *deliveries])  # transaction
        except IntegrityError:
            if existing := find_by_idempotency_key(idempotency_key, session):
                return existing, False
            raise
    store_handles(session, message, payload)
    for delivery in deliveries:
        enqueue_after_commit(session, delivery.id)
    return message, True


def get_message(message_id):
    """Return the message or raise NotFound."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message with id {message_id}")
    return message
