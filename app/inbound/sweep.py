"""The inbound half of the recovery sweep: wake events whose wake-up message was lost, and record the processings
whose worker died.

An event received, or failed with a retry, whose next_attempt_at is overdue by more than the grace and whose
source is enabled is enqueued again; taking it moves next_attempt_at to now (a compare-and-set), so any number of
sweepers may run at once and each event is re-enqueued at most once per grace period. An event processing past
its lease lost its worker: a failed attempt "worker lost" is recorded and counts like any other, so no event can
loop forever (app.inbound.processing.record_failure schedules the retry or makes it final).
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, true, update

from app.extensions import db
from app.inbound import processing
from app.models import InboundEvent, InboundSource, InboundStatus, InboundTrigger, utcnow
from app.outbox import process_inbound_after_commit, retry_inbound_after_commit

#: Rows taken per transaction, so a large backlog never becomes one giant transaction.
BATCH_SIZE = 500
#: Statuses an overdue event may be woken from, and the trigger of its processing.
WAKE_TRIGGERS = {InboundStatus.RECEIVED: InboundTrigger.RECEIVED, InboundStatus.FAILED: InboundTrigger.RETRY}


def wake_trigger(status, attempts):
    """The trigger of a woken event: a received one already processed before was replayed."""
    if status is InboundStatus.RECEIVED and attempts:
        return InboundTrigger.REPLAY.value
    return WAKE_TRIGGERS[status].value


@dataclass
class InboundSweepResult:
    overdue: int = 0
    expired_leases: int = 0

    @property
    def total(self):
        return self.overdue + self.expired_leases


def _waiting():
    """Events that will be processed once due: received, or failed with a retry, of an enabled source."""
    return (InboundEvent.status.in_(list(WAKE_TRIGGERS)) & InboundEvent.next_attempt_at.is_not(None)
            & InboundEvent.source_id.in_(processing.enabled_sources()))


def sweep_inbound(grace_seconds=None):
    """Record the processings whose lease expired and re-enqueue overdue events; return what was taken."""
    now = utcnow()
    grace = current_app.config["WEBHOOK_SWEEP_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    result = InboundSweepResult()
    result.expired_leases = record_lost_processings(now)
    overdue = _waiting() & (InboundEvent.next_attempt_at <= now - timedelta(seconds=grace))
    while taken := _take(overdue, now):
        result.overdue += taken
        if taken < BATCH_SIZE:
            break
    return result


def _take(condition, now):
    """Move one batch of overdue events' next_attempt_at to now; commit; enqueue them; return how many."""
    batch = select(InboundEvent.id).where(condition).limit(BATCH_SIZE)
    rows = db.session.execute(
        update(InboundEvent).where(InboundEvent.id.in_(batch), condition).values(next_attempt_at=now)
        .returning(InboundEvent.id, InboundEvent.status, InboundEvent.attempts)
        .execution_options(synchronize_session=False)).all()
    for event_id, status, attempts in rows:
        process_inbound_after_commit(db.session, event_id, wake_trigger(status, attempts))
    db.session.commit()
    return len(rows)


def record_lost_processings(now):
    """Record a failed attempt "worker lost" for each event whose processing lease expired; return how many."""
    lease_seconds = current_app.config["INBOUND_LEASE_SECONDS"]
    total, seen = 0, set()
    while True:
        rows = db.session.execute(
            select(InboundEvent.id, InboundEvent.attempts, InboundEvent.lease_expires_at, InboundEvent.source_id,
                   InboundEvent.topic, InboundSource.name, InboundSource.provider)
            .join(InboundSource, InboundSource.id == InboundEvent.source_id)
            .where(InboundEvent.status == InboundStatus.PROCESSING, InboundEvent.lease_expires_at < now,
                   InboundEvent.id.not_in(seen) if seen else true())
            .order_by(InboundEvent.lease_expires_at).limit(BATCH_SIZE)).all()
        db.session.rollback()
        for row in rows:
            seen.add(row.id)
            claim = processing.EventClaim(row.id, row.attempts, row.lease_expires_at, row.source_id, row.name,
                                     row.provider.value, row.topic, None)
            trigger = InboundTrigger.RECEIVED if row.attempts <= 1 else InboundTrigger.RETRY
            started_at = row.lease_expires_at - timedelta(seconds=lease_seconds)
            result = processing.record_failure(claim, trigger, started_at, None, processing.WORKER_LOST)
            if result is not None:  # None: another sweeper, or the late worker itself, recorded it first
                processing.observe(claim, result, None)
                total += 1
        if len(rows) < BATCH_SIZE:
            return total


def enqueue_all_waiting():
    """Enqueue every event waiting to be processed, each delayed until it is due, for a process whose broker
    starts empty (the embedded default after a restart); return how many."""
    now, total, cursor = utcnow(), 0, ""
    while True:
        rows = db.session.execute(
            select(InboundEvent.id, InboundEvent.status, InboundEvent.next_attempt_at, InboundEvent.attempts)
            .where(_waiting(), InboundEvent.id > cursor).order_by(InboundEvent.id).limit(BATCH_SIZE)).all()
        for event_id, status, due, attempts in rows:
            delay = (due - now).total_seconds()
            if status is InboundStatus.FAILED and delay > 0:
                retry_inbound_after_commit(db.session, event_id, delay)
            else:
                process_inbound_after_commit(db.session, event_id, wake_trigger(status, attempts))
        db.session.commit()
        total += len(rows)
        if len(rows) < BATCH_SIZE:
            return total
        cursor = rows[-1].id
