"""Retry, replay, cancel, resolve and send now as staff do them: role, hourly cap and cooldown checked, outcome
flashed."""

from flask import flash

from app.audit import Action
from app.auth.access import require_role, staff_actor
from app.delivery.operations.deliveries import (
    cancel_deliveries,
    replay_deliveries,
    resolve_deliveries,
    retry_deliveries,
    send_scheduled_now,
)
from app.errors import InvalidInput
from app.models import AttemptTrigger, Role
from app.staff.limits import LimitReached, check_retry_cap
from app.staff.settings import get_setting


def _report(outcome, verb):
    category = "success" if outcome.changed and not outcome.skipped else "warning"
    if not outcome.changed:
        category = "error"
    flash(outcome.summary(verb).capitalize() + ".", category)


def within_retry_cap(actor):
    """Say whether actor may take another retry action this hour; if not, the page says so in a banner."""
    try:
        check_retry_cap(actor)
    except LimitReached as exc:
        flash(exc.message, "error")
        return False
    return True


def retry_as_staff(ids, *, trigger=AttemptTrigger.MANUAL, audit_action=Action.DELIVERIES_RETRY):
    """Retry deliveries for the signed-in operator; return the OperationResult, or None when the cap refused it."""
    require_role(Role.OPERATOR)
    actor = staff_actor()
    if not within_retry_cap(actor):
        return None
    outcome = retry_deliveries(ids, trigger=trigger, actor=actor, audit_action=audit_action,
                               cooldown_seconds=get_setting("retry_cooldown_seconds"))
    _report(outcome, "retried")
    return outcome


def replay_as_staff(ids, *, audit_action=Action.DELIVERIES_REPLAY):
    """Send deliveries again whatever their status, for the signed-in operator; None when the cap refused it."""
    require_role(Role.OPERATOR)
    actor = staff_actor()
    if not within_retry_cap(actor):
        return None
    outcome = replay_deliveries(ids, actor=actor, audit_action=audit_action,
                                cooldown_seconds=get_setting("retry_cooldown_seconds"))
    _report(outcome, "replayed")
    return outcome


def cancel_as_staff(ids, *, audit_action=Action.DELIVERIES_CANCEL):
    """Cancel pending deliveries for the signed-in operator; return the OperationResult."""
    require_role(Role.OPERATOR)
    outcome = cancel_deliveries(ids, actor=staff_actor(), audit_action=audit_action)
    _report(outcome, "cancelled")
    return outcome


def resolve_as_staff(ids, note, *, audit_action=Action.DELIVERIES_RESOLVE):
    """Mark failed deliveries resolved with a note for the signed-in operator; None when the note is missing."""
    require_role(Role.OPERATOR)
    try:
        outcome = resolve_deliveries(ids, note, actor=staff_actor(), audit_action=audit_action)
    except InvalidInput as exc:
        flash(exc.message.capitalize() + "; nothing was changed.", "error")
        return None
    _report(outcome, "resolved")
    return outcome


def send_now_as_staff(ids, *, audit_action=Action.DELIVERIES_SEND_NOW):
    """Send scheduled deliveries now instead of at their time, for the signed-in operator; return the outcome."""
    require_role(Role.OPERATOR)
    outcome = send_scheduled_now(ids, actor=staff_actor(), audit_action=audit_action)
    _report(outcome, "sent")
    return outcome
