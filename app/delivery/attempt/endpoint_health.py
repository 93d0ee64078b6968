"""Endpoint health after each attempt: counters, the circuit breaker, auto-disable, alerts."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, update

from app.audit import SYSTEM, Action, record
from app.delivery import operational
from app.delivery.attempt import breaker_wake
from app.delivery.attempt.retry import is_retryable
from app.extensions import db
from app.models import Endpoint, EndpointState
from app.outbox import alert_after_commit
from app.staff.settings import get_setting

#: A healthy endpoint's last_success_at is refreshed at most this often, so its row is not rewritten per webhook
#: (a claim reads the same interval to tell the attempt that a success would change nothing).
HEALTH_WRITE_INTERVAL = timedelta(seconds=1)


def record_outcome(endpoint_id, outcome, now, alerted=False, operational_endpoint=False):
    """Update the endpoint after an attempt; return True if the endpoint is disabled after this failure.

    The breaker threshold's retryable failures in a row (timeouts, connection errors, 5xx, 429) open
    the breaker; any answer that shows the endpoint is up (a success, or a 4xx) closes it. The same
    number of failures of any kind raises one "failing" alert; 410 Gone, or nothing but failures for
    the auto-disable window, disables the endpoint with a reason and an alert. A success
    after an alert (alerted, read when the delivery was claimed) announces the recovery; a success that closes
    the breaker wakes what it held (breaker_wake).
    """
    if not outcome.ok:
        return _failure(endpoint_id, outcome, now, operational_endpoint)
    # The breaker's probe succeeded (or another attempt did while it was open): what it held goes now.
    if db.session.execute(update(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.breaker_open_until.is_not(None))
                          .values(breaker_open_until=None).execution_options(synchronize_session=False)).rowcount:
        breaker_wake.wake_held(endpoint_id, now)
    changed = or_(Endpoint.consecutive_failures != 0, Endpoint.last_success_at.is_(None),
                  Endpoint.last_success_at < now - HEALTH_WRITE_INTERVAL)
    # The condition skips the write when nothing would change, so a busy endpoint's row is not a hot spot.
    db.session.execute(update(Endpoint).where(Endpoint.id == endpoint_id, changed).values(
        consecutive_failures=0, breaker_failures=0, last_success_at=now, failing_since=None, breaker_open_until=None,
    ).execution_options(synchronize_session=False))
    if alerted and db.session.execute(  # compare-and-set: of two concurrent successes, one announces it
            update(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.alerted.is_not(None)).values(alerted=None)
            .execution_options(synchronize_session=False)).rowcount:
        _announce("recovered", endpoint_id, "attempts succeed again", operational_endpoint)
    return False


def _breaker_values(retryable, now):
    if not retryable:  # the endpoint answered: it is up, whatever it thought of this payload
        return {"breaker_failures": 0, "breaker_open_until": None}
    opened = now + timedelta(seconds=get_setting("breaker_cooldown_seconds"))
    return {
        "breaker_failures": Endpoint.breaker_failures + 1,
        "breaker_open_until": case((Endpoint.breaker_failures + 1 >= get_setting("breaker_threshold"), opened),
                                   else_=Endpoint.breaker_open_until),
    }


def _failure(endpoint_id, outcome, now, operational_endpoint=False):
    retryable = is_retryable(outcome.error_class, outcome.status)
    row = db.session.execute(
        update(Endpoint).where(Endpoint.id == endpoint_id).values(
            consecutive_failures=Endpoint.consecutive_failures + 1, last_failure_at=now,
            failing_since=func.coalesce(Endpoint.failing_since, now), **_breaker_values(retryable, now),
        ).returning(Endpoint.consecutive_failures, Endpoint.failing_since, Endpoint.alerted, Endpoint.state)
        .execution_options(synchronize_session=False)
    ).one()
    threshold = get_setting("breaker_threshold")
    reason = None
    if outcome.status == 410:
        reason = "the endpoint answered 410 Gone"
    elif now - row.failing_since >= timedelta(seconds=get_setting("auto_disable_after_seconds")):
        reason = f"every attempt has failed since {row.failing_since:%Y-%m-%d %H:%M} UTC"
    if reason and row.state is EndpointState.ENABLED:
        _disable(endpoint_id, reason, now, operational_endpoint)
        return True
    if row.state is EndpointState.DISABLED:
        return True  # disabled while this attempt was under way: its delivery waits with the others
    if row.consecutive_failures >= threshold and row.alerted is None:
        _set_alerted(endpoint_id, "failing")
        _announce("failing", endpoint_id, f"{row.consecutive_failures} attempts in a row failed", operational_endpoint)
    return False


def _set_alerted(endpoint_id, kind):
    db.session.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(alerted=kind)
                       .execution_options(synchronize_session=False))


def _disable(endpoint_id, reason, now, operational_endpoint=False):
    db.session.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(
        state=EndpointState.DISABLED, state_reason=reason, state_changed_at=now, state_changed_by=SYSTEM.name,
        alerted="disabled").execution_options(synchronize_session=False))
    record(SYSTEM, Action.ENDPOINT_AUTO_DISABLE, _l("disabled: %(reason)s; its pending deliveries wait", reason=reason),
           target_type="endpoint", target_ids=[endpoint_id], before={"state": "enabled"},
           after={"state": "disabled", "state_reason": reason})
    _announce("disabled", endpoint_id, reason, operational_endpoint)


def _announce(kind, endpoint_id, reason, operational_endpoint):
    """Alert staff after commit, and write the operational event endpoint.<kind> now (not about an operational
    endpoint)."""
    alert_after_commit(db.session, kind, endpoint_id, reason)
    if not operational_endpoint:
        operational.emit(f"endpoint.{kind}", lambda: endpoint_event(endpoint_id, reason))


def endpoint_event(endpoint_id, reason):
    """The data of an endpoint.* operational event: the endpoint's health as it is now, and why."""
    row = db.session.execute(select(Endpoint.id, Endpoint.name, Endpoint.url, Endpoint.state, Endpoint.state_reason,
                                    Endpoint.consecutive_failures, Endpoint.failing_since)
                             .where(Endpoint.id == endpoint_id)).one()
    return {"endpoint": {"id": row.id, "name": row.name, "url": row.url, "state": row.state.value,
                         "state_reason": row.state_reason, "consecutive_failures": row.consecutive_failures,
                         "failing_since": row.failing_since.isoformat() if row.failing_since else None},
            "reason": reason}
