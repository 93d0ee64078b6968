"""Limits on what one person or API key may do: an hourly cap on retry actions, which an admin may lift.

The cap counts audit entries, so every way of retrying (a button, a bulk action, a job, the API) is
counted the same; a bulk action or a job counts once, whatever its size.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit import Action, record
from app.errors import InvalidInput, LimitReached
from app.extensions import db
from app.models import AuditEntry, User, utcnow
from app.rows import get_or_not_found
from app.staff.settings import get_setting

#: Audit actions that count as one retry action each (a bulk retry is one action).
RETRY_ACTIONS = frozenset({
    Action.DELIVERY_RETRY, Action.DELIVERIES_RETRY, Action.DELIVERIES_BULK_RETRY, Action.ENDPOINT_RECOVER,
    Action.DELIVERY_REPLAY, Action.DELIVERIES_REPLAY, Action.MESSAGE_RESEND,
    Action.INBOUND_EVENT_REPLAY, Action.INBOUND_EVENTS_REPLAY,
})
#: The longest an admin may lift someone's cap for at once.
MAX_LIFT = timedelta(hours=24)


@dataclass(frozen=True)
class Allowance:
    """Where an actor stands this hour: used of cap (0 = no cap), when the next one frees, a lift's end."""

    used: int
    cap: int
    free_at: object = None
    lifted_until: object = None

    @property
    def unlimited(self):
        return not self.cap or self.lifted_until is not None

    @property
    def left(self):
        return None if self.unlimited else max(self.cap - self.used, 0)

    def describe(self):
        """Say it in words for the page: "7 of 10 retries left this hour"."""
        if self.lifted_until is not None:
            return _("Retry cap lifted until %(time)s UTC", time=f"{self.lifted_until:%H:%M}")
        if not self.cap:
            return _("No hourly retry cap")
        return _("%(left)s of %(cap)s retries left this hour", left=self.left, cap=self.cap)


def _lifted_until(actor, now):
    until = db.session.scalar(select(User.retry_cap_lifted_until).where(User.email == actor.name))
    return until if until is not None and until > now else None


def retry_allowance(actor):
    """Return the actor's Allowance of retry actions for the last hour."""
    now = utcnow()
    since = now - timedelta(hours=1)
    used, oldest = db.session.execute(
        select(func.count(), func.min(AuditEntry.at)).where(
            AuditEntry.actor == actor.name, AuditEntry.action.in_(RETRY_ACTIONS), AuditEntry.at >= since)
    ).one()
    free_at = oldest.replace(tzinfo=since.tzinfo) + timedelta(hours=1) if oldest is not None else None
    return Allowance(used, get_setting("retry_hourly_cap"), free_at, _lifted_until(actor, now))


def check_retry_cap(actor):
    """Raise LimitReached if actor has taken the hourly cap of retry actions already."""
    allowance = retry_allowance(actor)
    if allowance.unlimited or allowance.left > 0:
        return
    raise LimitReached(_l(
        "Retry limit reached: %(used)s of %(cap)s retry actions used in the last hour. The next one is possible at "
        "%(free_at)s UTC. Bulk actions and \"retry all that match\" count once, whatever their size; an admin can "
        "lift your cap for the incident.",
        used=allowance.used, cap=allowance.cap, free_at=f"{allowance.free_at:%H:%M}"))


def lift_retry_cap(user_id, hours, *, actor):
    """Lift a person's hourly retry cap for some hours (at most MAX_LIFT; 0 restores it); audited."""
    user = get_or_not_found(User, user_id, f"no user with id {user_id}")
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise InvalidInput(_l("hours must be a number"), field="hours") from None
    if not 0 <= hours <= MAX_LIFT.total_seconds() / 3600:
        raise InvalidInput(_l("hours must be from 0 to %(max_hours)s",
                              max_hours=format(MAX_LIFT.total_seconds() / 3600, "g")), field="hours")
    before = user.retry_cap_lifted_until
    user.retry_cap_lifted_until = utcnow() + timedelta(hours=hours) if hours else None
    summary = (_l("lifted the retry cap of %(email)s for %(hours)s h", email=user.email, hours=format(hours, "g"))
               if hours else _l("restored the retry cap of %(email)s", email=user.email))
    record(actor, Action.USER_LIFT_CAP, summary, target_type="user", target_ids=[user.id],
           before={"retry_cap_lifted_until": before.isoformat() if before else None},
           after={"retry_cap_lifted_until": user.retry_cap_lifted_until.isoformat() if hours else None})
    db.session.commit()
    return user
