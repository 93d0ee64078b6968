"""Make one attempt at a delivery: claim it with a lease, send it, record what happened.

No database connection is held while the HTTP request runs: the claim commits first, and the
result is written in a second short transaction.
"""

import secrets as _random
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from app.delivery import retry, secrets, sender, signing
from app.delivery.endpoints import outbound_policy
from app.delivery.errors import SecretUnavailable
from app.delivery.outbox import enqueue_after_commit
from app.extensions import db
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
    url: str
    body: bytes
    headers: dict
    timeout_seconds: int
    max_attempts: int
    config_error: str | None = None


def attempt_delivery(delivery_id):
    """Claim a delivery, send it once and record the attempt; safe to run twice or concurrently.

    Returns the new DeliveryAttempt, or None when there was nothing to claim (already handled,
    not due yet, endpoint not enabled, or another worker holds it).
    """
    job = claim_delivery(delivery_id)
    if job is None:
        return None
    if job.config_error:
        outcome = sender.Outcome(duration_ms=0, error_class=ErrorClass.CONFIG, error=job.config_error)
    else:
        config = current_app.config
        outcome = sender.post(job.url, job.body, job.headers, timeout=job.timeout_seconds,
                              policy=outbound_policy(), body_limit=config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"])
    return record_attempt(job, outcome)


def claim_delivery(delivery_id):
    """Move a due pending delivery to sending with a lease and return its Job; None if not claimable."""
    session = db.session
    now = utcnow()
    row = session.execute(
        select(Delivery.status, Delivery.next_attempt_at, Endpoint.state, Endpoint.timeout_seconds)
        .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .where(Delivery.id == delivery_id)
    ).one_or_none()
    if (row is None or row.status is not DeliveryStatus.PENDING or row.state is not EndpointState.ENABLED
            or row.next_attempt_at > now + EARLY_TOLERANCE):
        session.rollback()
        return None
    token = _random.token_hex(8)
    lease = now + timedelta(seconds=row.timeout_seconds + current_app.config["WEBHOOK_LEASE_MARGIN_SECONDS"])
    claimed = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING,
               Delivery.next_attempt_at <= now + EARLY_TOLERANCE)
        .values(status=DeliveryStatus.SENDING, lease_token=token, lease_expires_at=lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        return None
    job = _build_job(delivery_id, token)
    session.commit()
    return job


def _build_job(delivery_id, token):
    delivery, endpoint, message = db.session.execute(
        select(Delivery, Endpoint, Message)
        .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .join(Message, Message.id == Delivery.message_id)
        .where(Delivery.id == delivery_id)
    ).one()
    body = message.payload.encode()
    config_error = None
    try:
        headers = {**sender.BASE_HEADERS, **signing.sign(
            endpoint.signing, [secrets.decrypt(endpoint.secret_encrypted)], message.id, int(time.time()), body)}
    except SecretUnavailable as exc:
        headers, config_error = {}, exc.message
    return Job(
        delivery_id=delivery.id,
        lease_token=token,
        number=delivery.attempt_count + 1,
        trigger=delivery.next_trigger or AttemptTrigger.SCHEDULED,
        triggered_by=delivery.next_triggered_by,
        scheduled_attempt_count=delivery.scheduled_attempt_count,
        resume_at=delivery.resume_at,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        body=body,
        headers=headers,
        timeout_seconds=endpoint.timeout_seconds,
        max_attempts=endpoint.max_attempts,
        config_error=config_error,
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
    delay = retry.next_delay(job.scheduled_attempt_count + 1, config["WEBHOOK_RETRY_SCHEDULE"], job.max_attempts,
                             config["WEBHOOK_RETRY_JITTER"])
    if delay is None:
        return DeliveryStatus.FAILED, None, None
    delay = retry.honour_retry_after(delay, retry.parse_retry_after(outcome.retry_after, now),
                                     config["WEBHOOK_RETRY_AFTER_MAX_SECONDS"])
    return DeliveryStatus.PENDING, now + timedelta(seconds=delay), delay


def record_attempt(job, outcome):
    """Write the attempt, move the delivery on and update endpoint health in one transaction."""
    session = db.session
    now = utcnow()
    started_at = now - timedelta(milliseconds=outcome.duration_ms)
    status, next_at, delay = _next_step(job, outcome, now)
    scheduled = job.trigger is AttemptTrigger.SCHEDULED
    moved = session.execute(
        update(Delivery)
        .where(Delivery.id == job.delivery_id, Delivery.status == DeliveryStatus.SENDING,
               Delivery.lease_token == job.lease_token)
        .values(
            status=status, next_attempt_at=next_at, last_attempt_at=started_at,
            attempt_count=Delivery.attempt_count + 1,
            scheduled_attempt_count=Delivery.scheduled_attempt_count + (1 if scheduled else 0),
            lease_token=None, lease_expires_at=None, next_trigger=None, next_triggered_by=None, resume_at=None,
            enqueued_at=None, last_response_status=outcome.status, last_error_class=outcome.error_class,
            last_error=outcome.error,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    attempt = DeliveryAttempt(
        delivery_id=job.delivery_id, number=job.number, trigger=job.trigger, triggered_by=job.triggered_by,
        started_at=started_at, duration_ms=outcome.duration_ms, request_url=job.url,
        request_headers=signing.mask_headers(job.headers), response_status=outcome.status,
        response_body=outcome.body, error_class=outcome.error_class, error=outcome.error,
        will_retry=bool(moved) and status is DeliveryStatus.PENDING, next_attempt_at=next_at if moved else None,
    )
    session.add(attempt)
    _update_health(job.endpoint_id, outcome.ok, now)
    if moved and status is DeliveryStatus.PENDING:
        enqueue_after_commit(session, job.delivery_id, delay)
    session.commit()
    return attempt


def _update_health(endpoint_id, ok, now):
    if ok:  # skip the write when nothing would change, so a busy endpoint's row is not a hot spot
        stmt = update(Endpoint).where(
            Endpoint.id == endpoint_id,
            or_(Endpoint.consecutive_failures != 0, Endpoint.last_success_at.is_(None),
                Endpoint.last_success_at < now - timedelta(seconds=1)),
        ).values(consecutive_failures=0, last_success_at=now, failing_since=None)
    else:
        stmt = update(Endpoint).where(Endpoint.id == endpoint_id).values(
            consecutive_failures=Endpoint.consecutive_failures + 1, last_failure_at=now,
            failing_since=func.coalesce(Endpoint.failing_since, now),
        )
    db.session.execute(stmt.execution_options(synchronize_session=False))
