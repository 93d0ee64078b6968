"""Limits on what one person may do: an hourly cap on retry actions."""

from datetime import timedelta

from sqlalchemy import func, select

from app.errors import LimitReached
from app.extensions import db
from app.models import AuditEntry, utcnow
from app.staff.settings import get_setting

#: Audit actions that count as one retry action each (a bulk retry is one action).
RETRY_ACTIONS = ("delivery.retry", "deliveries.retry", "deliveries.bulk_retry", "endpoint.recover")


def check_retry_cap(actor):
    """Raise LimitReached if actor has taken the hourly cap of retry actions already."""
    cap = get_setting("retry_hourly_cap")
    if not cap:
        return
    since = utcnow() - timedelta(hours=1)
    used, oldest = db.session.execute(
        select(func.count(), func.min(AuditEntry.at)).where(
            AuditEntry.actor == actor.name, AuditEntry.action.in_(RETRY_ACTIONS), AuditEntry.at >= since)
    ).one()
    if used >= cap:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=since.tzinfo)
        free_at = (oldest + timedelta(hours=1)).strftime("%H:%M UTC")
        raise LimitReached(
            f"Retry limit reached: {used} of {cap} retry actions used in the last hour. "
            f"The next one is possible at {free_at}, or an admin can raise the cap in Settings."
        )
