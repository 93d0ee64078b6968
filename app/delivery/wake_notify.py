"""Wake the workers by PostgreSQL NOTIFY in the producer's own transaction instead of a broker message at commit.

With WEBHOOK_WAKE_BY_NOTIFY (PostgreSQL and a broker), the statement that writes messages and their deliveries
(app.delivery.messages) also notifies CHANNEL with the ids of the deliveries due now: PostgreSQL delivers the
notification when the transaction commits, and never if it rolls back, so the commit costs no broker round trip.
A listener in each worker process (tasks.wake_listener) turns the notifications that arrive together into one
wake-up. The ids matter only where the fair claim leaves a delivery to the gated path (pipeline.drain); a
delivery due later still gets the broker's delayed message, and the recovery sweep stays the safety net.
"""

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


def payloads(delivery_ids):
    """The notifications' payloads for delivery_ids, as the one text parameter the write statement splits (None when
    there is nothing to wake)."""
    ids = list(delivery_ids)
    if not ids:
        return None
    return NOTIFY_SEPARATOR.join(ID_SEPARATOR.join(ids[start:start + IDS_PER_NOTIFY])
                                 for start in range(0, len(ids), IDS_PER_NOTIFY))


def delivery_ids(payload):
    """The delivery ids one notification names (none for an empty payload)."""
    return [part for part in payload.split(ID_SEPARATOR) if part]
