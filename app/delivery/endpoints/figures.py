"""Endpoint health read side: which endpoints are failing; each one's last 24 hours of attempts and latency."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select

from app.extensions import db
from app.models import DeliveryAttempt, Endpoint
from app.staff.settings import get_setting


def is_failing():
    """SQL: the endpoint's last breaker-threshold attempts or more failed (what raises the failing alert)."""
    return Endpoint.consecutive_failures >= get_setting("breaker_threshold")


@dataclass(frozen=True)
class Figures:
    """An endpoint's last 24 hours: attempts, successes, success rate and p95 duration."""

    attempts: int = 0
    successes: int = 0
    p95_ms: int | None = None

    @property
    def success_rate(self):
        return round(100 * self.successes / self.attempts, 1) if self.attempts else None


def last_day_figures(now):
    """Return {endpoint_id: Figures} over attempts started in the 24 hours before now."""
    since = now - timedelta(hours=24)
    ok = case((DeliveryAttempt.error_class.is_(None), 1), else_=0)
    rows = db.session.execute(
        select(DeliveryAttempt.endpoint_id, func.count(), func.sum(ok))
        .where(DeliveryAttempt.started_at >= since, DeliveryAttempt.endpoint_id.is_not(None))
        .group_by(DeliveryAttempt.endpoint_id)
    ).all()
    p95 = _p95_by_endpoint(since)
    return {eid: Figures(attempts=n, successes=int(s or 0), p95_ms=p95.get(eid)) for eid, n, s in rows}


def _p95_by_endpoint(since):
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            select(DeliveryAttempt.endpoint_id,
                   func.percentile_cont(0.95).within_group(DeliveryAttempt.duration_ms))
            .where(DeliveryAttempt.started_at >= since).group_by(DeliveryAttempt.endpoint_id)).all()
        return {eid: int(round(value)) for eid, value in rows if value is not None}
    durations = {}
    for eid, ms in db.session.execute(select(DeliveryAttempt.endpoint_id, DeliveryAttempt.duration_ms)
                                      .where(DeliveryAttempt.started_at >= since)):
        durations.setdefault(eid, []).append(ms)
    return {eid: percentile(sorted(values), 0.95) for eid, values in durations.items()}


def percentile(ordered, share):
    """Linear-interpolated percentile, as PostgreSQL's percentile_cont computes it."""
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return int(round(ordered[low] + (ordered[high] - ordered[low]) * (position - low)))
