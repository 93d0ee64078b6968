"""Wake the workers by PostgreSQL NOTIFY in the producer's own transaction instead of a broker message at commit.

With WEBHOOK_WAKE_BY_NOTIFY (PostgreSQL and a broker), the statement that writes messages and their deliveries
(app.delivery.messages) also notifies CHANNEL with the ids of the deliveries due now: PostgreSQL delivers the
notification when the transaction commits, and never if it rolls back, so the commit costs no broker round trip.
A listener in each worker process (tasks.wake_listener) turns the notifications that arrive together into one
wake-up. The ids matter only where the fair claim leaves a delivery to the gated path (pipeline.drain). Of the
deliveries due later (a deliver_at), one notification names the earliest moment, which the listener hands to its
process's wake timer (tasks.wake_timer); they still get the broker's delayed message too, as a fallback, and the
recovery sweep stays the safety net.
"""

from datetime import datetime

from flask import current_app

#: The channel the producers notify and the workers listen on (per database).
CHANNEL = "hookyard_deliveries"
#: Delivery ids one notification carries at most (PostgreSQL takes payloads under 8,000 bytes).
IDS_PER_NOTIFY = 100
#: Separates the ids within a notification, and notifications within the statement's parameter.
ID_SEPARATOR, NOTIFY_SEPARATOR = ",", ";"


def enabled():
    """Whether this process's writes wake the workers by NOTIFY (app.config checked it is PostgreSQL with a broker)."""
    return current_app.config["WEBHOOK_WAKE_BY_NOTIFY"]


#: Starts the payload of a notification that names a moment (ISO 8601) some deliveries are due at, not ids.
MOMENT_PREFIX = "@"


def payloads(delivery_ids, later=None):
    """The notifications' payloads for delivery_ids (due now) and the moment later (an aware datetime: others are
    due then), as the one text parameter the write statement splits (None when there is nothing to notify)."""
    ids = list(delivery_ids)
    parts = [ID_SEPARATOR.join(ids[start:start + IDS_PER_NOTIFY]) for start in range(0, len(ids), IDS_PER_NOTIFY)]
    if later is not None:
        parts.append(MOMENT_PREFIX + later.isoformat())
    return NOTIFY_SEPARATOR.join(parts) or None


def delivery_ids(payload):
    """The delivery ids one notification names (none for an empty payload or a moment)."""
    if payload.startswith(MOMENT_PREFIX):
        return []
    return [part for part in payload.split(ID_SEPARATOR) if part]


def moment(payload):
    """The moment one notification names (an aware datetime), or None when it names delivery ids."""
    return datetime.fromisoformat(payload[len(MOMENT_PREFIX):]) if payload.startswith(MOMENT_PREFIX) else None
