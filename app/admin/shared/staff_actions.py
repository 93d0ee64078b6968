"""Retry, replay, cancel, resolve and send now deliveries, replay and mark processed inbound events, as staff do
them: the hourly cap checked where it applies (the service checks the cooldown), the outcome flashed. The role is
checked by the route (app.admin.shared.posting.staff_post, or the monitor's action_view)."""

from flask import flash
from flask_babel import gettext as _

from app.admin.shared.posting import done_or_flashed
from app.audit import Action
from app.auth.access import staff_actor
from app.delivery.operations.deliveries import (
    cancel_deliveries,
    replay_deliveries,
    resolve_deliveries,
    retry_deliveries,
    send_scheduled_now,
)
from app.errors import InvalidInput
from app.inbound import actions as inbound_actions
from app.models import AttemptTrigger
from app.staff.retry_cap import LimitReached, check_retry_cap
from app.staff.settings import get_setting


def report(outcome, verb):
    """Flash what an action did: success when it changed every row, a warning when it skipped some, an error when
    it changed none."""
    category = "success" if outcome.changed and not outcome.skipped else "warning"
    text = str(outcome.summary(verb))  # in the page's language, skip reasons too
    flash(text[:1].upper() + text[1:] + ".", category if outcome.changed else "error")


def within_retry_cap(actor):
    """Say whether actor may take another retry action this hour; if not, the page says so in a banner."""
    return done_or_flashed(lambda: check_retry_cap(actor), LimitReached)


def _act(run, verb, *, capped=False):
    """Run run(actor) for the signed-in person and flash its outcome; return it, or None when the hourly cap or
    the input (a missing note) refused it and nothing was changed."""
    actor = staff_actor()
    if capped and not within_retry_cap(actor):
        return None
    try:
        outcome = run(actor)
    except InvalidInput as exc:
        flash(_("%(error)s; nothing was changed.", error=exc.localized.capitalize()), "error")
        return None
    report(outcome, verb)
    return outcome


def retry_as_staff(ids, *, trigger=AttemptTrigger.MANUAL, audit_action: Action = Action.DELIVERIES_RETRY):
    """Retry deliveries for the signed-in operator; return the OperationResult, or None when the cap refused it."""
    return _act(lambda actor: retry_deliveries(ids, trigger=trigger, actor=actor, audit_action=audit_action,
                                               cooldown_seconds=get_setting("retry_cooldown_seconds")),
                "retried", capped=True)


def replay_as_staff(ids, *, audit_action: Action = Action.DELIVERIES_REPLAY):
    """Send deliveries again whatever their status, for the signed-in operator; None when the cap refused it."""
    return _act(lambda actor: replay_deliveries(ids, actor=actor, audit_action=audit_action,
                                                cooldown_seconds=get_setting("retry_cooldown_seconds")),
                "replayed", capped=True)


def cancel_as_staff(ids, *, audit_action: Action = Action.DELIVERIES_CANCEL):
    """Cancel pending deliveries for the signed-in operator; return the OperationResult."""
    return _act(lambda actor: cancel_deliveries(ids, actor=actor, audit_action=audit_action), "cancelled")


def resolve_as_staff(ids, note, *, audit_action: Action = Action.DELIVERIES_RESOLVE):
    """Mark failed deliveries resolved with a note for the signed-in operator; None when the note is missing."""
    return _act(lambda actor: resolve_deliveries(ids, note, actor=actor, audit_action=audit_action), "resolved")


def send_now_as_staff(ids, *, audit_action: Action = Action.DELIVERIES_SEND_NOW):
    """Send scheduled deliveries now instead of at their time, for the signed-in operator; return the outcome."""
    return _act(lambda actor: send_scheduled_now(ids, actor=actor, audit_action=audit_action), "sent")


def replay_events_as_staff(ids, *, audit_action: Action = Action.INBOUND_EVENTS_REPLAY):
    """Replay inbound events for the signed-in operator (hourly cap and cooldown apply); None when the cap refused
    it."""
    return _act(lambda actor: inbound_actions.replay_events(ids, actor, check_cap=False, audit_action=audit_action),
                "replayed", capped=True)


def settle_events_as_staff(ids, note, *, audit_action: Action = Action.INBOUND_EVENTS_MARK_PROCESSED):
    """Mark inbound events processed with a note for the signed-in operator; None when the note is missing."""
    return _act(lambda actor: inbound_actions.mark_processed(ids, note, actor, audit_action=audit_action),
                "marked processed")
