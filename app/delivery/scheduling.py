"""Scheduled delivery: a message's deliveries wait until its deliver_at, held as "scheduled".

The status-independent marker is the message's deliver_at (kept whatever happens to its deliveries). While a
delivery waits for that time it is pending with next_attempt_at = deliver_at and held_reason SCHEDULED, and one
delayed wake-up message goes to the broker through the outbox; the recovery sweep wakes it if that is lost. With
WEBHOOK_WAKE_TIMER, each worker process also keeps a timer (tasks.wake_timer) set to next_due_after(), which wakes
the claim at the time itself. A claim clears the held reason, so "scheduled" means "has not been attempted yet, on
purpose"; and a claim never takes a scheduled delivery before its time (claim.pending_and_due).
"""

from sqlalchemy import bindparam, func, or_, select

from app.extensions import db
from app.models import Delivery
from app.work.leases import EARLY_TOLERANCE

#: The held_reason of a delivery waiting for its message's deliver_at.
SCHEDULED = Delivery.SCHEDULED

#: The earliest moment a pending delivery is due after "now" (the partial index of pending rows answers it).
_NEXT_DUE = select(func.min(Delivery.next_attempt_at)).where(Delivery.is_pending(),
                                                             Delivery.next_attempt_at > bindparam("now"))


def first_attempt(created_at, deliver_at):
    """Return (next_attempt_at, held_reason, wake-up delay in seconds) for a new delivery of a message."""
    if deliver_at is None or deliver_at <= created_at:
        return created_at, None, 0.0
    return deliver_at, SCHEDULED, (deliver_at - created_at).total_seconds()


def due_params(now):
    """The bind parameters of claim.pending_and_due at now: due within EARLY_TOLERANCE (a wake-up from a machine
    whose clock runs ahead still finds its delivery), except a scheduled one, never before its time (not_early)."""
    return {"due": now + EARLY_TOLERANCE, "on_time": now}


def not_early(table):
    """SQL: the delivery (a row of table) is not a scheduled one whose time comes after "on_time" (bind parameter):
    whatever tolerance a claim allows, it never sends a delivery before its message's deliver_at."""
    return or_(table.c.held_reason.is_(None), table.c.held_reason != SCHEDULED,
               table.c.next_attempt_at <= bindparam("on_time"))


def next_due_after(now):
    """Return the earliest next_attempt_at of a pending delivery after now (a scheduled one, or a retry), or None."""
    moment = db.session.execute(_NEXT_DUE, {"now": now}).scalar()
    db.session.rollback()
    return moment
