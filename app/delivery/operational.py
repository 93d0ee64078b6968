"""Operational events: Hookyard's own news (a delivery failed for good, an endpoint failing, an alert firing) sent
to the producer's operational endpoints as Standard Webhooks, through the same engine as any message.

An operational endpoint is an ordinary endpoint flagged operational: partner messages never match it, and it
receives only the event types below (exact names; none listed is all of them). emit() writes one ordinary message
whose payload is {"type", "timestamp", "data"} in the caller's transaction, the one that writes the change it
announces, so the event exists exactly when the change does; the workers sign, send, retry and record it.

Cheap when unused: each process remembers which event types some operational endpoint wants for
OPERATIONAL_CACHE_SECONDS, so the delivery path asks the database nothing when no one listens. A change made here
is seen at once (forget()); one made by another process within that many seconds.

No loops: an operational endpoint's own outcomes (its deliveries succeeding or failing, its health) announce
nothing; callers pass Claim.endpoint_operational and skip it.
"""

import time

from flask import current_app
from sqlalchemy import select

from app.delivery import matching
from app.delivery.message_rules import check_message
from app.delivery.messages import RECEIVING_STATES, send_messages
from app.extensions import db
from app.models import Endpoint, utcnow

#: Every operational event type, with what it announces (README: "Operational webhooks" has their payloads).
EVENT_TYPES = {
    "delivery.succeeded": "A delivery was received by its endpoint (2xx).",
    "delivery.failed": "A delivery failed for good: retries exhausted or not retryable; a person or an API call "
                       "moves it on.",
    "endpoint.failing": "An endpoint failed as many attempts in a row as the breaker threshold (Settings page).",
    "endpoint.disabled": "An endpoint was disabled automatically (410 Gone, or failing for too long).",
    "endpoint.recovered": "An endpoint that was failing or disabled succeeds again.",
    "inbound.failed": "An inbound event's processing failed for good.",
    "alert.fired": "An alert rule started firing.",
    "alert.resolved": "An alert rule stopped firing.",
}

#: (monotonic time it expires, frozenset of the event types some operational endpoint wants).
_wanted = (0.0, frozenset())


def forget():
    """Drop what this process remembers of the operational endpoints (call after changing one)."""
    global _wanted
    _wanted = (0.0, frozenset())


def wanted():
    """The event types some receiving operational endpoint wants; read at most every OPERATIONAL_CACHE_SECONDS."""
    global _wanted
    expires, types = _wanted
    now = time.monotonic()
    if now < expires:
        return types
    wanted_types = set()
    for event_types in db.session.execute(select(Endpoint.event_types).where(
            Endpoint.operational.is_(True), Endpoint.deleted_at.is_(None),
            Endpoint.state.in_(RECEIVING_STATES))).scalars():
        wanted_types |= set(event_types) if event_types else set(EVENT_TYPES)
    _wanted = (now + current_app.config["OPERATIONAL_CACHE_SECONDS"], frozenset(wanted_types))
    return _wanted[1]


def wants(event_type):
    """Say whether some operational endpoint receives event_type (cheap: see wanted())."""
    return event_type in wanted()


def envelope(event_type, data, at=None):
    """The body of an operational event, as Standard Webhooks suggests: type, timestamp, data."""
    return {"type": event_type, "timestamp": (at or utcnow()).isoformat(), "data": data}


def emit(event_type, data, *, session=None):
    """Write an operational event in the caller's transaction if some operational endpoint wants it.

    data may be a callable, called only then (so what it reads costs nothing when no one listens). Returns the
    message written, or None.
    """
    sent = emit_many([(event_type, data)], session=session)
    return sent[0] if sent else None


def emit_many(events, *, session=None):
    """emit() for several [(event_type, data)] at once; returns the messages written."""
    events = [(event_type, data) for event_type, data in events if wants(event_type)]
    if not events:
        return []
    now = utcnow()
    news = [check_message(event_type, envelope(event_type, data() if callable(data) else data, now),
                          forwarded=matching.is_forwarded(event_type), catalogued=False)
            for event_type, data in events]
    return send_messages(news, session=session, operational=True)
