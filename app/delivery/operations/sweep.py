"""The recovery sweep: wake deliveries whose broker message was lost, record attempts whose worker died, and
resume stalled bulk jobs.

A pending delivery overdue by more than WEBHOOK_SWEEP_GRACE_SECONDS is enqueued again (taken with a
compare-and-set on enqueued_at, so any number of sweepers may run at once and each row is re-enqueued
at most once per grace period). A sending one whose lease has expired lost its worker between the
request and its record: the receiver may have the webhook, so the attempt is recorded as worker_lost
and counts like any failed attempt; no delivery can loop forever.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.delivery.attempt.claim import claim_expired
from app.delivery.attempt.record import record_results
from app.delivery.attempt.sender import Outcome
from app.delivery.operations.bulk import resume_stalled_jobs
from app.extensions import db
from app.models import Delivery, Endpoint, EndpointState, ErrorClass, utcnow
from app.outbox import enqueue_after_commit

#: Rows taken per transaction, so a large backlog never becomes one giant transaction.
BATCH_SIZE = 500
#: What is known of an attempt whose worker died before recording it.
LOST = Outcome(duration_ms=0, error_class=ErrorClass.WORKER_LOST,
               error="the worker stopped before recording this attempt (killed, or its lease ran out); "
                     "the receiver may have received the webhook")


@dataclass
class SweepResult:
    overdue: int = 0
    expired_leases: int = 0
    resumed_jobs: int = 0

    @property
    def total(self):
        return self.overdue + self.expired_leases + self.resumed_jobs


def _enabled_endpoints():
    return select(Endpoint.id).where(Endpoint.state == EndpointState.ENABLED)


def _take(condition, values):
    """Update one batch of rows matching condition; commit; enqueue them; return how many."""
    batch = select(Delivery.id).where(condition).limit(BATCH_SIZE)
    ids = db.session.scalars(
        update(Delivery).where(Delivery.id.in_(batch), condition).values(**values)
        .returning(Delivery.id).execution_options(synchronize_session=False)
    ).all()
    for delivery_id in ids:
        enqueue_after_commit(db.session, delivery_id)
    db.session.commit()
    return len(ids)


def _drain(condition, values):
    total = 0
    while taken := _take(condition, values):
        total += taken
        if taken < BATCH_SIZE:
            break
    return total


def sweep(grace_seconds=None):
    """Re-enqueue overdue pending deliveries and recover expired leases; return what was taken."""
    now = utcnow()
    grace = current_app.config["WEBHOOK_SWEEP_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    overdue = (
        Delivery.is_pending()
        & (Delivery.next_attempt_at <= cutoff)
        & or_(Delivery.enqueued_at.is_(None), Delivery.enqueued_at <= cutoff)
        & Delivery.endpoint_id.in_(_enabled_endpoints())
    )
    result = SweepResult()
    result.expired_leases = record_lost_attempts(now)
    result.overdue = _drain(overdue, dict(enqueued_at=now))
    result.resumed_jobs = len(resume_stalled_jobs())
    return result


def record_lost_attempts(now):
    """Record a worker_lost attempt for each sending delivery whose lease expired, and move it on as any failed
    attempt would (retry on schedule, or failed once its attempts are used up); return how many."""
    total = 0
    while claims := claim_expired(now, BATCH_SIZE):
        record_results([(claim, LOST) for claim in claims])
        total += len(claims)
    return total


def enqueue_all_pending():
    """Enqueue every pending delivery of an enabled endpoint, each delayed until it is due.

    For a process whose broker starts empty (the embedded default after a restart): a retry due in ten
    minutes is woken on time instead of when the sweep would find it overdue. Returns how many.
    """
    now = utcnow()
    total, cursor = 0, ""
    while True:
        rows = db.session.execute(
            select(Delivery.id, Delivery.next_attempt_at)
            .where(Delivery.is_pending(), Delivery.endpoint_id.in_(_enabled_endpoints()),
                   Delivery.id > cursor)
            .order_by(Delivery.id).limit(BATCH_SIZE)).all()
        for delivery_id, due in rows:
            enqueue_after_commit(db.session, delivery_id, max((due - now).total_seconds(), 0) if due else 0)
        db.session.commit()
        total += len(rows)
        if len(rows) < BATCH_SIZE:
            return total
        cursor = rows[-1].id
