"""The inbound events' part of the recovery sweep (app.work.sweep runs it): record the processings whose worker
died, and wake events whose wake-up message was lost.

An event processing past its lease lost its worker: the sweep takes it with a lease token of its own and records a
failed attempt "worker lost", which counts like any other, so no event can loop forever
(app.inbound.processing.record_failure schedules the retry or makes it final). An event received, or failed with a
retry, whose next_attempt_at is overdue by more than the grace and whose source is enabled is enqueued again;
taking it moves next_attempt_at to now (a compare-and-set), so each is re-enqueued at most once per grace period.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inbound import processing
from app.models import InboundEvent, InboundSource, InboundStatus, InboundTrigger, utcnow
from app.outbox import process_inbound_after_commit, retry_inbound_after_commit
from app.work import sweep as work
from app.work.leases import take, take_expired

#: Statuses an overdue event may be woken from, and the trigger of its processing.
WAKE_TRIGGERS = {InboundStatus.RECEIVED: InboundTrigger.RECEIVED, InboundStatus.FAILED: InboundTrigger.RETRY}


def wake_trigger(status, attempts):
    """The trigger of a woken event: a received one already processed before was replayed."""
    if status is InboundStatus.RECEIVED and attempts:
        return InboundTrigger.REPLAY.value
    return WAKE_TRIGGERS[status].value


def _waiting():
    """Events that will be processed once due: received, or failed with a retry, of an enabled source."""
    return (InboundEvent.status.in_(list(WAKE_TRIGGERS)) & InboundEvent.next_attempt_at.is_not(None)
            & InboundEvent.source_id.in_(processing.enabled_sources()))


def _take_lost(now, cutoff, limit):
    """Take the events whose processing lease ran out; return (Claim, when its processing started) for each."""
    token, taken = take_expired(InboundEvent, InboundStatus.PROCESSING, now, InboundEvent.lease_expires_at,
                                limit=limit)
    if not taken:
        return []
    lease, expired_at = timedelta(seconds=current_app.config["INBOUND_LEASE_SECONDS"]), dict(taken)
    rows = db.session.execute(
        select(InboundEvent.id, InboundEvent.attempts, InboundEvent.source_id, InboundEvent.topic, InboundSource.name,
               InboundSource.provider)
        .join(InboundSource, InboundSource.id == InboundEvent.source_id)
        .where(InboundEvent.id.in_(list(expired_at)))).all()
    db.session.commit()
    return [(processing.Claim(row.id, row.attempts, token, row.source_id, row.name, row.provider.value, row.topic,
                              None), expired_at[row.id] - lease) for row in rows]


def _record_lost(lost, now):
    """Record a failed attempt "worker lost" for each lost processing; return how many were recorded."""
    recorded = 0
    for claim, started_at in lost:
        trigger = InboundTrigger.RECEIVED if claim.number <= 1 else InboundTrigger.RETRY
        result = processing.record_failure(claim, trigger, started_at, None, processing.WORKER_LOST)
        if result is not None:  # None: the late worker itself settled it first
            processing.observe(claim, result, None)
            recorded += 1
    return recorded


def _take_overdue(now, cutoff, limit):
    """Take waiting events due before cutoff: their next_attempt_at moves to now."""
    overdue = _waiting() & (InboundEvent.next_attempt_at <= cutoff)
    return take(InboundEvent, overdue, dict(next_attempt_at=now), InboundEvent.status, InboundEvent.attempts,
                limit=limit)


def _enqueue(rows, now):
    for event_id, status, attempts in rows:
        process_inbound_after_commit(db.session, event_id, wake_trigger(status, attempts))
    return len(rows)


def enqueue_all_waiting():
    """Enqueue every event waiting to be processed, each delayed until it is due, for a process whose broker
    starts empty (the embedded default after a restart); return how many."""
    now = utcnow()

    def enqueue(rows):
        for event_id, status, due, attempts in rows:
            delay = (due - now).total_seconds()
            if status is InboundStatus.FAILED and delay > 0:
                retry_inbound_after_commit(db.session, event_id, delay)
            else:
                process_inbound_after_commit(db.session, event_id, wake_trigger(status, attempts))

    waiting = select(InboundEvent.id, InboundEvent.status, InboundEvent.next_attempt_at, InboundEvent.attempts)
    return work.each_batch(waiting.where(_waiting()), InboundEvent.id, enqueue)


INBOUND_EVENTS = work.Sweepable("inbound events", steps=(
    work.Step("expired_leases", _take_lost, _record_lost),
    work.Step("overdue", _take_overdue, _enqueue),
), wake=enqueue_all_waiting)


def sweep_inbound(grace_seconds=None):
    """Sweep inbound events only (app.ops.sweeps sweeps every kind); return the SweepResult."""
    return work.sweep((INBOUND_EVENTS,), grace_seconds)
