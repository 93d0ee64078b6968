"""The deliveries' part of the recovery sweep (app.work.sweep runs it): record attempts whose worker died, and
wake deliveries whose broker message was lost.

A sending delivery whose lease has expired lost its worker. If its send may have begun (the first its slot had not
recorded), the receiver may have the webhook, so the attempt is recorded as worker_lost and counts like any failed
attempt; no delivery can loop forever. The rest of that slot's batch was never sent: it goes back unattempted.
A pending delivery overdue by more than the grace is enqueued again (taken with a compare-and-set
on enqueued_at, so each is re-enqueued at most once per grace period).
"""

from sqlalchemy import or_, select

from app.delivery.attempt.claim import claim_expired, release
from app.delivery.attempt.record import record_results
from app.delivery.attempt.sender import Outcome
from app.delivery.operations.bulk import BULK_JOBS
from app.extensions import db
from app.models import Delivery, Endpoint, EndpointState, ErrorClass, utcnow
from app.outbox import enqueue_after_commit
from app.work import sweep as work
from app.work.leases import take

#: What is known of an attempt whose worker died before recording it.
LOST = Outcome(duration_ms=0, error_class=ErrorClass.WORKER_LOST,
               error="the worker stopped before recording this attempt (killed, or its lease ran out); "
                     "the receiver may have received the webhook")


def _enabled_endpoints():
    return select(Endpoint.id).where(Endpoint.state == EndpointState.ENABLED)


def _record_lost(claims, now):
    """Record each attempt whose send may have begun as lost, and move its delivery on as any failed attempt would
    (retry, or failed); give the others (claimed, never sent) back without an attempt."""
    record_results([(claim, LOST) for claim in claims if claim.maybe_sent])
    release([claim for claim in claims if not claim.maybe_sent])
    return len(claims)


def _take_overdue(now, cutoff, limit):
    """Take pending deliveries of enabled endpoints due before cutoff and not enqueued since."""
    overdue = (Delivery.is_pending() & (Delivery.next_attempt_at <= cutoff)
               & or_(Delivery.enqueued_at.is_(None), Delivery.enqueued_at <= cutoff)
               & Delivery.endpoint_id.in_(_enabled_endpoints()))
    return take(Delivery, overdue, dict(enqueued_at=now), limit=limit)


def enqueue_all_pending():
    """Enqueue every pending delivery of an enabled endpoint, each delayed until it is due.

    For a process whose broker starts empty (the embedded default after a restart): a retry due in ten
    minutes is woken on time instead of when the sweep would find it overdue. Returns how many.
    """
    now = utcnow()

    def enqueue(rows):
        for delivery_id, due in rows:
            enqueue_after_commit(db.session, delivery_id, max((due - now).total_seconds(), 0) if due else 0)

    waiting = (select(Delivery.id, Delivery.next_attempt_at)
               .where(Delivery.is_pending(), Delivery.endpoint_id.in_(_enabled_endpoints())))
    return work.each_batch(waiting, Delivery.id, enqueue)


DELIVERIES = work.Sweepable("deliveries", steps=(
    work.Step("expired_leases", lambda now, cutoff, limit: claim_expired(now, limit), _record_lost),
    work.Step("overdue", _take_overdue, work.signal_each(enqueue_after_commit)),
), wake=enqueue_all_pending)


def sweep(grace_seconds=None):
    """Sweep deliveries and bulk jobs (app.ops.sweeps sweeps every kind); return the SweepResult."""
    return work.sweep((DELIVERIES, BULK_JOBS), grace_seconds)
