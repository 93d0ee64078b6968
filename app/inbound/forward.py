"""Forwarding: a source with forward on turns each event into an outbound message (the gateway flow).

The message's event type is "inbound.<source name>.<topic with / as .>", in the namespace no producer may send
(app.delivery.matching.FORWARDED): only endpoints that subscribe to it receive it. Its payload is the event's JSON
body, and its idempotency key "inbound:<source id>:<provider event id>": a retry, a replay or a duplicate of the
event finds the first message and creates no second one, so each event is delivered once.
"""

import hashlib

from flask_babel import lazy_gettext as _l

from app.delivery.matching import FORWARDED
from app.delivery.messages import send_message
from app.errors import InvalidInput

#: Longest idempotency key a message takes.
MAX_KEY_LENGTH = 200


def forwarded_event_type(source_name, topic):
    """The outbound event type of a forwarded event: shop + orders/fulfilled -> inbound.shop.orders.fulfilled."""
    if not topic:
        raise InvalidInput(_l("the event has no topic to forward it under"))
    return f"{FORWARDED}.{source_name}.{topic.replace('/', '.')}"


def idempotency_key(source_id, provider_event_id):
    """The key that makes forwarding an event twice create one message (a very long provider id is hashed)."""
    key = f"inbound:{source_id}:{provider_event_id}"
    if len(key) > MAX_KEY_LENGTH:
        key = f"inbound:{source_id}:sha256:{hashlib.sha256(provider_event_id.encode()).hexdigest()}"
    return key


def forward_event(event, source, payload, session=None):
    """Create (or find) the outbound message of event in the caller's transaction; return its id."""
    if payload is None:
        raise InvalidInput(_l("only a JSON object body can be forwarded"))
    message, _created = send_message(forwarded_event_type(source.name, event.topic), payload,
                                     idempotency_key=idempotency_key(source.id, event.provider_event_id),
                                     reference=event.id, session=session, forwarded=True)
    return message.id
