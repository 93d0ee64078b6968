"""Process stored inbound events: run the host app's handlers and forward, once per claim, all in one transaction.

A worker claims an event with one UPDATE (status processing, a lease, one more attempt); only an event received,
or failed with a retry due, of an enabled source can be claimed, so a paused source holds its events and an event
being processed is never taken twice. Handlers, forwarding, the InboundAttempt row and the event's new status
(processed; ignored when nothing acts on it; failed) commit together, and only while the claim's lease still holds.
A failure rolls back whatever the handlers wrote and records the failed attempt in a fresh transaction, with a
retry on WEBHOOK_RETRY_SCHEDULE while attempts stay under INBOUND_MAX_ATTEMPTS; a HookyardError is final, and a
replay is a one-off (as a staff retry of a delivery). A worker lost mid-way leaves its lease to expire: the
recovery sweep (app.inbound.sweep) records that attempt as failed and it counts like any other.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from app import metrics, outages
from app.delivery import operational
from app.errors import HookyardError, InvalidInput
from app.extensions import db
from app.inbound import counts
from app.inbound.failures import describe_failure
from app.inbound.forward import forward_event
from app.inbound.handlers import handlers_for
from app.inbound.providers.base import json_object
from app.logs import log_inbound_event
from app.models import InboundAttempt, InboundEvent, InboundSource, InboundStatus, InboundTrigger, SourceState, utcnow
from app.outbox import process_inbound_after_commit, retry_inbound_after_commit
from app.staff.settings import get_setting
from app.work import backoff
from app.work.leases import EARLY_TOLERANCE, new_token, still_mine

log = logging.getLogger(__name__)

#: The error of an attempt whose worker stopped before recording it.
WORKER_LOST = "worker lost: the worker stopped before recording this processing (killed, or its lease ran out)"


@dataclass(frozen=True)
class EventClaim:
    """An event claimed for one processing, with what recording it needs."""

    event_id: str
    number: int
    lease_token: str
    source_id: str
    source_name: str
    provider: str
    topic: str | None
    triggered_by: str | None


@dataclass(frozen=True)
class Result:
    """How one processing ended."""

    status: InboundStatus
    number: int
    error: str | None = None
    next_attempt_at: object = None
    forwarded_message_id: str | None = None


def enabled_sources():
    """The ids of the sources whose events may be processed."""
    return select(InboundSource.id).where(InboundSource.state == SourceState.ENABLED)


def claimable(now):
    """The events a worker may take now: received, or failed with a retry due, of an enabled source."""
    return and_(
        InboundEvent.source_id.in_(enabled_sources()),
        or_(InboundEvent.status == InboundStatus.RECEIVED,
            and_(InboundEvent.status == InboundStatus.FAILED, InboundEvent.next_attempt_at.is_not(None),
                 InboundEvent.next_attempt_at <= now + EARLY_TOLERANCE)),
    )


def claim_event(event_id, trigger, triggered_by=None, now=None):
    """Move an event to processing with a lease and commit; return an EventClaim, or None when it is not claimable."""
    now = now or utcnow()
    lease, token = now + timedelta(seconds=current_app.config["INBOUND_LEASE_SECONDS"]), new_token()
    number = db.session.scalar(
        update(InboundEvent).where(InboundEvent.id == event_id, claimable(now))
        .values(status=InboundStatus.PROCESSING, lease_token=token, lease_expires_at=lease, next_attempt_at=None,
                attempts=InboundEvent.attempts + 1)
        .returning(InboundEvent.attempts).execution_options(synchronize_session=False))
    if number is None:
        db.session.rollback()
        return None
    row = db.session.execute(
        select(InboundEvent.source_id, InboundEvent.topic, InboundEvent.replayed_by, InboundSource.name,
               InboundSource.provider)
        .join(InboundSource, InboundSource.id == InboundEvent.source_id).where(InboundEvent.id == event_id)).one()
    db.session.commit()
    if triggered_by is None and trigger is InboundTrigger.REPLAY:
        triggered_by = row.replayed_by
    return EventClaim(event_id, number, token, row.source_id, row.name, row.provider.value, row.topic, triggered_by)


def process_event(event_id, trigger, triggered_by=None):
    """Claim an event and process it once: handlers, then forwarding, recorded with the outcome.

    trigger is an InboundTrigger or its value. Returns a Result, or None when the event was not claimable
    (already processing, settled, not yet due, or its source paused or disabled): safe to run twice.
    """
    trigger = InboundTrigger(getattr(trigger, "value", trigger))
    started_at, clock = utcnow(), time.perf_counter()
    claim = claim_event(event_id, trigger, triggered_by, started_at)
    if claim is None:
        return None
    try:
        result = _run(claim, trigger, started_at, clock)
    except Exception as exc:  # noqa: BLE001  any handler error becomes a failed attempt
        db.session.rollback()
        if outages.database_unavailable(exc):
            raise  # the lease runs out and the sweep records the attempt; the actor retries quietly
        error, trace = describe_failure(exc, claim.source_id)
        result = record_failure(claim, trigger, started_at, _ms(clock), error, final=isinstance(exc, HookyardError),
                                trace=trace)
    if result is not None:
        observe(claim, result, _ms(clock))
    return result


def _run(claim, trigger, started_at, clock):
    """Run the handlers and forwarding and settle the event, all in one transaction; None if the lease was lost."""
    event = db.session.get(InboundEvent, claim.event_id)
    source = event.source
    if event.body is None:
        raise InvalidInput(_l("its body was purged by retention; there is nothing left to process"))
    payload = json_object(event.body)
    handlers = handlers_for(source.provider, event.topic)
    for handler in handlers:
        handler(event, payload)
    forwarded = event.forwarded_message_id
    if source.forward and forwarded is None:
        forwarded = forward_event(event, source, payload)
    status = InboundStatus.PROCESSED if handlers or source.forward else InboundStatus.IGNORED
    db.session.flush()  # the handlers' writes fail here, not after the event says processed
    if not _settle(claim, trigger, started_at, _ms(clock), status, None, None, forwarded_message_id=forwarded):
        db.session.rollback()
        log.warning("inbound event %s: its lease ran out while processing; the sweep has taken it", claim.event_id)
        return None
    db.session.commit()
    return Result(status, claim.number, forwarded_message_id=forwarded)


def record_failure(claim, trigger, started_at, duration_ms, error, *, final=False, trace=None):
    """Record a failed processing in its own transaction, scheduling a retry unless final, a replay, or out of
    attempts; commit and return the Result (None if the claim's lease was lost meanwhile). trace is the handler's
    traceback (app.inbound.failures), kept on the attempt."""
    delay = None
    if not final and trigger is not InboundTrigger.REPLAY:
        config = current_app.config
        delay = backoff.next_delay(claim.number, get_setting("retry_schedule"), config["INBOUND_MAX_ATTEMPTS"],
                                 config["WEBHOOK_RETRY_JITTER"])
    next_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
    if not _settle(claim, trigger, started_at, duration_ms, InboundStatus.FAILED, error, next_at, trace=trace):
        db.session.rollback()
        return None
    if delay is not None:
        retry_inbound_after_commit(db.session, claim.event_id, delay)
    else:
        operational.emit("inbound.failed", lambda: _failed_event(claim, error))
    db.session.commit()
    return Result(InboundStatus.FAILED, claim.number, error, next_at)


def _failed_event(claim, error):
    """The data of an inbound.failed operational event."""
    provider_event_id = db.session.scalar(select(InboundEvent.provider_event_id)
                                          .where(InboundEvent.id == claim.event_id))
    return {"inbound_event": {"id": claim.event_id, "source": {"id": claim.source_id, "name": claim.source_name},
                              "provider": claim.provider, "provider_event_id": provider_event_id,
                              "topic": claim.topic, "attempts": claim.number, "last_error": error}}


def _settle(claim, trigger, started_at, duration_ms, status, error, next_at, *, forwarded_message_id=None,
            trace=None):
    """Write the attempt and move the event on, if the claim's lease still holds it; say whether it did."""
    ended_at = utcnow()
    values = dict(status=status, last_error=error, next_attempt_at=next_at, lease_token=None, lease_expires_at=None)
    if status is not InboundStatus.FAILED:
        values.update(processed_at=ended_at, forwarded_message_id=forwarded_message_id)
    moved = db.session.execute(
        update(InboundEvent).where(InboundEvent.id == claim.event_id,
                                   still_mine(InboundEvent, InboundStatus.PROCESSING, claim.lease_token))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return False
    counts.count(db.session, claim.source_name, status.value, ended_at)  # the Sources page's and the alerts' figures
    db.session.add(InboundAttempt(event_id=claim.event_id, number=claim.number, trigger=trigger,
                                  triggered_by=claim.triggered_by, started_at=started_at, ended_at=ended_at,
                                  duration_ms=duration_ms, outcome=status, error=error, traceback=trace))
    return True


def observe(claim, result, duration_ms):
    """Log one line for the processing and count it."""
    if result.status is InboundStatus.PROCESSED:
        metrics.observe_inbound("processed")
    elif result.status is InboundStatus.FAILED:
        metrics.observe_inbound("failed")
    log_inbound_event(event_id=claim.event_id, source_id=claim.source_id, provider=claim.provider, topic=claim.topic,
                      status=result.status.value, duration_ms=duration_ms)


def _ms(clock):
    return int((time.perf_counter() - clock) * 1000)


def wake_source(session, source):
    """Enqueue (trigger resume) once session commits the events a resumed source held; return how many.

    source is a source row or its id. Failed events with a retry scheduled are left to the sweep, when due.
    """
    source_id, now = getattr(source, "id", source), utcnow()
    ids = session.scalars(
        update(InboundEvent).where(InboundEvent.source_id == source_id, InboundEvent.status == InboundStatus.RECEIVED)
        .values(next_attempt_at=now).returning(InboundEvent.id).execution_options(synchronize_session=False)).all()
    for event_id in ids:
        process_inbound_after_commit(session, event_id, InboundTrigger.RESUME.value)
    return len(ids)
