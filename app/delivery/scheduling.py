"""Scheduled delivery: a message's deliveries wait until its deliver_at, held as "scheduled".

The status-independent marker is the message's deliver_at (kept whatever happens to its deliveries). While a
delivery waits for that time it is pending with next_attempt_at = deliver_at and held_reason SCHEDULED, and one
delayed wake-up message goes to the broker through the outbox; the recovery sweep wakes it if that is lost.
A claim clears the held reason, so "scheduled" means "has not been attempted yet, on purpose".
"""

from app.models import Delivery

#: The held_reason of a delivery waiting for its message's deliver_at.
SCHEDULED = Delivery.SCHEDULED


def first_attempt(created_at, deliver_at):
    """Return (next_attempt_at, held_reason, wake-up delay in seconds) for a new delivery of a message."""
    if deliver_at is None or deliver_at <= created_at:
        return created_at, None, 0.0
    return deliver_at, SCHEDULED, (deliver_at - created_at).total_seconds()
