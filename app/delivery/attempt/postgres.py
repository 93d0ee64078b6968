"""The common case on PostgreSQL in two round trips: claim in one statement, record in one statement.

Most attempts are a webhook to an enabled, healthy endpoint with no gate in the way, and succeed. For
those, the claim is a single autocommitted UPDATE ... FROM ... RETURNING that also reads everything
the attempt needs, and the record is a single autocommitted statement updating the delivery and
inserting the attempt (a data-modifying CTE). Anything else (a gate, a test send, a failure, SQLite)
takes the general path in app.delivery.attempt.pipeline, which behaves the same, in more statements.
"""

from sqlalchemy import bindparam, exists, func, insert, literal_column, select, update

from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, EndpointState, Message

_deliveries, _attempts = Delivery.__table__, DeliveryAttempt.__table__
_endpoints, _messages = Endpoint.__table__, Message.__table__

_CLAIM = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("delivery_id"), _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.next_attempt_at <= bindparam("due"), _deliveries.c.next_trigger.is_(None),
        _endpoints.c.id == _deliveries.c.endpoint_id, _messages.c.id == _deliveries.c.message_id,
        _endpoints.c.state == EndpointState.ENABLED, _endpoints.c.deleted_at.is_(None),
        _endpoints.c.breaker_open_until.is_(None), _endpoints.c.breaker_failures == 0,
        _endpoints.c.rate_limit_per_second.is_(None),
    )
    .values(status=DeliveryStatus.SENDING, lease_token=bindparam("token"), held_reason=None,
            lease_expires_at=bindparam("now") + func.make_interval(
                0, 0, 0, 0, 0, 0, _endpoints.c.timeout_seconds + bindparam("margin")))
    .returning(
        _deliveries.c.next_trigger, _deliveries.c.next_triggered_by, _deliveries.c.attempt_count,
        _deliveries.c.scheduled_attempt_count, _deliveries.c.resume_at, _deliveries.c.message_id,
        _endpoints.c.id.label("endpoint_id"), _endpoints.c.url, _endpoints.c.signing, _endpoints.c.secret_encrypted,
        _endpoints.c.retired_secrets, _endpoints.c.headers_encrypted, _endpoints.c.timeout_seconds,
        _endpoints.c.max_attempts, _endpoints.c.retry_schedule, _endpoints.c.alerted, _endpoints.c.consecutive_failures,
        _endpoints.c.last_success_at, _messages.c.payload,
    )
)

_SUCCEEDED = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.status == DeliveryStatus.SENDING,
           _deliveries.c.lease_token == bindparam("token"))
    .values(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, last_attempt_at=bindparam("attempted_at"),
            attempt_count=_deliveries.c.attempt_count + 1,
            scheduled_attempt_count=_deliveries.c.scheduled_attempt_count + bindparam("scheduled"),
            lease_token=None, lease_expires_at=None, next_trigger=None, next_triggered_by=None, resume_at=None,
            enqueued_at=None, last_response_status=bindparam("status_code"), last_error_class=None,
            last_error=None)
    .returning(_deliveries.c.id)
    .cte("moved")
)
#: The attempt's columns, each bound as a_<name> (a bind parameter may not share a name with a column).
ATTEMPT_COLUMNS = ("delivery_id", "endpoint_id", "number", "trigger", "triggered_by", "started_at", "duration_ms",
                   "request_url", "request_headers", "response_status", "response_body", "error_class", "error",
                   "will_retry", "next_attempt_at")
_RECORD_SUCCESS = (insert(_attempts).values({name: bindparam(f"a_{name}") for name in ATTEMPT_COLUMNS})
                   .add_cte(_SUCCEEDED)
                   .returning(exists(select(literal_column("1")).select_from(_SUCCEEDED)).label("moved")))


def available():
    """Whether the database is PostgreSQL (SQLite cannot return columns of joined tables)."""
    return db.engine.dialect.name == "postgresql"


def _autocommit():
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def claim(delivery_id, token, now, due, margin_seconds):
    """Claim a delivery in one statement if nothing needs the general path; return its row or None."""
    with _autocommit() as connection:
        return connection.execute(_CLAIM, {"delivery_id": delivery_id, "token": token, "now": now, "due": due,
                                           "margin": margin_seconds}).one_or_none()


def record_success(job, values):
    """Record a successful attempt (values: ATTEMPT_COLUMNS) and move its delivery to succeeded, in one
    statement; return whether the delivery moved (False if its lease was lost meanwhile)."""
    params = {f"a_{name}": values[name] for name in ATTEMPT_COLUMNS}
    params.update(delivery_id=job.delivery_id, token=job.lease_token, attempted_at=values["started_at"],
                  scheduled=1 if job.trigger is AttemptTrigger.SCHEDULED else 0,
                  status_code=values["response_status"])
    with _autocommit() as connection:
        return connection.execute(_RECORD_SUCCESS, params).one().moved
