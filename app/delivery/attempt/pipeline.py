"""Make one attempt at a delivery: pass the endpoint's gates, claim with a lease, send, record.

No database connection is held while the HTTP request runs: the claim commits first, and the
result is written in a second short transaction. A delivery held back by a gate (circuit breaker,
rate limit, a failing endpoint's in-flight cap) is not attempted and uses up no attempt: it is
woken again later through the outbox.
"""

import random
import secrets as _random
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update

from app import metrics
from app.delivery.attempt import postgres as fastpath
from app.delivery.attempt import retry, sender, signing
from app.delivery.attempt.addresses import outbound_policy
from app.delivery.endpoints import health
from app.delivery.endpoints import rules as endpoint_rules
from app.delivery.endpoints.rotation import signing_secrets
from app.delivery.outbox import enqueue_after_commit
from app.errors import SecretUnavailable
from app.extensions import db
from app.logs import log_attempt
from app.models import (
    AttemptTrigger,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Endpoint,
    EndpointState,
    ErrorClass,
    Message,
    utcnow,
)

#: A message may arrive this early (clock skew between machines) and still claim its delivery.
EARLY_TOLERANCE = timedelta(seconds=1)
#: A healthy endpoint's last_success_at is refreshed at most this often, so its row is not rewritten per webhook.
HEALTH_WRITE_INTERVAL = timedelta(seconds=1)


@dataclass(frozen=True)
class Deferred:
    """The delivery was held back (reason) and will be woken again in delay_seconds."""

    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class Job:
    """Everything one attempt needs, copied out of the database before the request is made."""

    delivery_id: str
    lease_token: str
    number: int
    trigger: AttemptTrigger
    triggered_by: str | None
    scheduled_attempt_count: int
    resume_at: object
    endpoint_id: str
    endpoint_alerted: bool
    #: The endpoint had no failure and a success within HEALTH_WRITE_INTERVAL: a success changes nothing.
    endpoint_healthy: bool
    url: str
    body: bytes
    headers: dict
    timeout_seconds: int
    max_attempts: int
    retry_schedule: list | None
    config_error: str | None = None


def attempt_delivery(delivery_id, throttle=None):
    """Claim a delivery, send it once and record the attempt; safe to run twice or concurrently.

    throttle(endpoint_id, per_second) -> bool enforces an endpoint's rate limit (the workers pass one
    shared across processes). Returns the new DeliveryAttempt, a Deferred when a gate held it back, or
    None when there was nothing to claim (handled already, not due, endpoint not enabled, or taken).
    """
    job = claim_delivery(delivery_id, throttle)
    if not isinstance(job, Job):
        return job
    if job.config_error:
        outcome = sender.Outcome(duration_ms=0, error_class=ErrorClass.CONFIG, error=job.config_error)
    else:
        outcome = sender.post(job.url, job.body, job.headers, timeout=job.timeout_seconds, policy=outbound_policy(),
                              body_limit=current_app.config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"])
    return record_attempt(job, outcome)


# The hot path's four statements are built once, on the tables with bind parameters, and run on the
# session's connection as plain Core: building them per call and going through the ORM's DML handling
# took a third of a worker's CPU per webhook.
_deliveries, _attempts = Delivery.__table__, DeliveryAttempt.__table__

#: Everything one attempt needs, read in one query.
_CLAIM_COLUMNS = (
    Delivery.status, Delivery.next_attempt_at, Delivery.next_trigger, Delivery.next_triggered_by,
    Delivery.attempt_count, Delivery.scheduled_attempt_count, Delivery.resume_at, Delivery.message_id,
    Endpoint.id.label("endpoint_id"), Endpoint.state, Endpoint.deleted_at, Endpoint.url, Endpoint.signing,
    Endpoint.secret_encrypted, Endpoint.retired_secrets, Endpoint.headers, Endpoint.timeout_seconds,
    Endpoint.max_attempts, Endpoint.retry_schedule, Endpoint.rate_limit_per_second, Endpoint.breaker_failures,
    Endpoint.breaker_open_until, Endpoint.alerted, Endpoint.consecutive_failures, Endpoint.last_success_at,
    Message.payload,
)
_READ = (select(*_CLAIM_COLUMNS).join(Endpoint, Endpoint.id == Delivery.endpoint_id)
         .join(Message, Message.id == Delivery.message_id).where(Delivery.id == bindparam("id")))
_CLAIM = (update(_deliveries)
          .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.status == DeliveryStatus.PENDING,
                 _deliveries.c.next_attempt_at <= bindparam("due"))
          .values(status=DeliveryStatus.SENDING, lease_token=bindparam("token"), lease_expires_at=bindparam("lease"),
                  held_reason=None))
_RECORD = (update(_deliveries)
           .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.status == DeliveryStatus.SENDING,
                  _deliveries.c.lease_token == bindparam("token"))
           .values(status=bindparam("new_status"), next_attempt_at=bindparam("next_at"),
                   last_attempt_at=bindparam("last_at"), attempt_count=_deliveries.c.attempt_count + 1,
                   scheduled_attempt_count=_deliveries.c.scheduled_attempt_count + bindparam("scheduled"),
                   lease_token=None, lease_expires_at=None, next_trigger=None, next_triggered_by=None,
                   resume_at=None, enqueued_at=None, last_response_status=bindparam("response_status"),
                   last_error_class=bindparam("error_class"), last_error=bindparam("error")))
_INSERT_ATTEMPT = insert(_attempts)


def claim_delivery(delivery_id, throttle=None):
    """Move a due pending delivery to sending with a lease and return its Job; a Deferred or None otherwise."""
    session = db.session
    now = utcnow()
    if fastpath.available():  # the common case, in one statement
        token = _random.token_hex(8)
        margin = current_app.config["WEBHOOK_LEASE_MARGIN_SECONDS"]
        fast = fastpath.claim(delivery_id, token, now, now + EARLY_TOLERANCE, margin)
        if fast is not None:
            return _job(delivery_id, token, fast, now)
    row = session.connection().execute(_READ, {"id": delivery_id}).one_or_none()
    test = row is not None and row.next_trigger is AttemptTrigger.TEST  # a test send ignores the gates
    if (row is None or row.status is not DeliveryStatus.PENDING or row.deleted_at is not None
            or (row.state is not EndpointState.ENABLED and not test) or row.next_attempt_at > now + EARLY_TOLERANCE):
        session.rollback()
        return None
    lease = now + timedelta(seconds=row.timeout_seconds + current_app.config["WEBHOOK_LEASE_MARGIN_SECONDS"])
    held = None if test else _gate(delivery_id, row, now, lease, throttle)
    if held is not None:
        return held
    token = _random.token_hex(8)
    claimed = session.connection().execute(
        _CLAIM, {"delivery_id": delivery_id, "due": now + EARLY_TOLERANCE, "token": token, "lease": lease}).rowcount
    if claimed != 1:
        session.rollback()
        return None
    session.commit()
    return _job(delivery_id, token, row, now)


def _gate(delivery_id, row, now, lease, throttle):
    """Return a Deferred if the endpoint's breaker, in-flight cap or rate limit holds this delivery back."""
    config = current_app.config
    if row.breaker_open_until and row.breaker_open_until > now:
        return _hold(delivery_id, row.breaker_open_until, now, "breaker open")
    if row.breaker_open_until:
        # Half-open: the breaker's cool-off is over; exactly one delivery becomes the probe, and the others
        # wait behind its lease.
        probe = db.session.execute(update(Endpoint).where(
            Endpoint.id == row.endpoint_id, Endpoint.breaker_open_until <= now,
        ).values(breaker_open_until=lease).execution_options(synchronize_session=False)).rowcount
        if not probe:
            return _hold(delivery_id, lease, now, "waiting for the breaker's probe")
    elif row.breaker_failures and _in_flight(row.endpoint_id) >= config["WEBHOOK_FAILING_MAX_IN_FLIGHT"]:
        return _later(delivery_id, 1.0, "failing endpoint busy")
    if row.rate_limit_per_second and throttle and not throttle(row.endpoint_id, row.rate_limit_per_second):
        return _later(delivery_id, 1.0 / row.rate_limit_per_second, "rate limited")
    return None


def _in_flight(endpoint_id):
    # Lock the endpoint's row until this claim commits, so concurrent claims count one after another
    # (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them already). Only failing endpoints come here.
    db.session.execute(select(Endpoint.id).where(Endpoint.id == endpoint_id).with_for_update())
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == DeliveryStatus.SENDING, Delivery.endpoint_id == endpoint_id))


def _hold(delivery_id, until, now, reason):
    """Hold the delivery until then (plus a little jitter, so a held crowd does not stampede)."""
    return _later(delivery_id, (until - now).total_seconds() + random.uniform(0, 2), reason, now)


def _later(delivery_id, delay, reason, now=None):
    """Wake the delivery again in about delay seconds; its row says why it waits and until when."""
    delay = delay * random.uniform(1, 1.5)
    now = now or utcnow()
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=now + timedelta(seconds=delay), held_reason=reason)
                       .execution_options(synchronize_session=False))
    enqueue_after_commit(db.session, delivery_id, delay)
    db.session.commit()
    return Deferred(delay, reason)


def _job(delivery_id, token, row, now):
    body = row.payload.encode()
    config_error = None
    try:
        signed = signing.sign(row.signing, signing_secrets(row, now), row.message_id, int(time.time()), body)
        headers = {**sender.BASE_HEADERS, **(row.headers or {}), **signed}
    except SecretUnavailable as exc:
        headers, config_error = {}, exc.message
    healthy = (row.consecutive_failures == 0 and row.alerted is None and row.last_success_at is not None
               and now - row.last_success_at < HEALTH_WRITE_INTERVAL)
    return Job(
        delivery_id=delivery_id, lease_token=token, number=row.attempt_count + 1,
        trigger=row.next_trigger or AttemptTrigger.SCHEDULED, triggered_by=row.next_triggered_by,
        scheduled_attempt_count=row.scheduled_attempt_count, resume_at=row.resume_at,
        endpoint_id=row.endpoint_id, endpoint_alerted=row.alerted is not None, endpoint_healthy=healthy,
        url=row.url, body=body, headers=headers, timeout_seconds=row.timeout_seconds,
        max_attempts=row.max_attempts, retry_schedule=row.retry_schedule, config_error=config_error,
    )


def _next_step(job, outcome, now):
    """Decide the delivery's next status and, when it stays pending, when and in how long."""
    if outcome.ok:
        return DeliveryStatus.SUCCEEDED, None, None
    if job.trigger is not AttemptTrigger.SCHEDULED:  # a one-off attempt: back where it came from
        if job.resume_at is None:
            return DeliveryStatus.FAILED, None, None
        resume_at = max(job.resume_at, now)
        return DeliveryStatus.PENDING, resume_at, (resume_at - now).total_seconds()
    if not retry.is_retryable(outcome.error_class, outcome.status):
        return DeliveryStatus.FAILED, None, None
    config = current_app.config
    schedule = job.retry_schedule or config["WEBHOOK_RETRY_SCHEDULE"]
    delay = retry.next_delay(job.scheduled_attempt_count + 1, schedule, job.max_attempts,
                             config["WEBHOOK_RETRY_JITTER"])
    if delay is None:
        return DeliveryStatus.FAILED, None, None
    delay = retry.honour_retry_after(delay, retry.parse_retry_after(outcome.retry_after, now),
                                     config["WEBHOOK_RETRY_AFTER_MAX_SECONDS"])
    return DeliveryStatus.PENDING, now + timedelta(seconds=delay), delay


def _attempt_values(job, outcome, started_at, *, will_retry, next_at):
    return dict(
        delivery_id=job.delivery_id, endpoint_id=job.endpoint_id, number=job.number, trigger=job.trigger,
        triggered_by=job.triggered_by, started_at=started_at, duration_ms=outcome.duration_ms, request_url=job.url,
        request_headers=endpoint_rules.mask_headers(job.headers), response_status=outcome.status,
        response_body=outcome.body, error_class=outcome.error_class, error=outcome.error, will_retry=will_retry,
        next_attempt_at=next_at,
    )


def record_attempt(job, outcome):
    """Write the attempt, move the delivery on and update endpoint health in one transaction."""
    session = db.session
    now = utcnow()
    started_at = now - timedelta(milliseconds=outcome.duration_ms)
    if outcome.ok and job.endpoint_healthy and fastpath.available():  # the common case, in one statement
        values = _attempt_values(job, outcome, started_at, will_retry=False, next_at=None)
        fastpath.record_success(job, values)
        _count(values)
        return DeliveryAttempt(**values)
    disabled = False
    if not (outcome.ok and job.endpoint_healthy):
        disabled = health.record_outcome(job.endpoint_id, outcome, now, job.endpoint_alerted)
    if disabled:  # the endpoint is off now: this delivery waits with the others until it is enabled again
        status, next_at, delay = DeliveryStatus.PENDING, now, None
    else:
        status, next_at, delay = _next_step(job, outcome, now)
    connection = session.connection()
    moved = connection.execute(_RECORD, {
        "delivery_id": job.delivery_id, "token": job.lease_token, "new_status": status, "next_at": next_at,
        "last_at": started_at, "scheduled": 1 if job.trigger is AttemptTrigger.SCHEDULED else 0,
        "response_status": outcome.status, "error_class": outcome.error_class, "error": outcome.error,
    }).rowcount
    retrying = bool(moved) and status is DeliveryStatus.PENDING and delay is not None
    values = _attempt_values(job, outcome, started_at, will_retry=retrying, next_at=next_at if retrying else None)
    connection.execute(_INSERT_ATTEMPT, values)
    if moved and delay is not None:
        enqueue_after_commit(session, job.delivery_id, delay)
    session.commit()
    _count(values)
    return DeliveryAttempt(**values)  # a record of what was written, not attached to the session


def _count(values):
    log_attempt(values)
    error_class = values["error_class"]
    metrics.observe_attempt(succeeded=error_class is None, error_class=error_class.value if error_class else None,
                            duration_ms=values["duration_ms"])
