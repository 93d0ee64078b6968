"""What people and producers do to deliveries: retry, replay, cancel, resolve, send a scheduled one now. Each
commits, audits, then enqueues."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select, update

from app.audit import Action, record
from app.delivery.scheduling import SCHEDULED
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus, Message, utcnow
from app.outbox import enqueue_after_commit
from app.status_words import status_word
from app.text import check_note
from app.work.results import OperationResult, SkipReason, the_one

#: Reason given for a delivery that does not exist.
MISSING = SkipReason(_l("no such delivery"))
#: Reason given for a delivery whose payload retention has purged.
PURGED = SkipReason(_l("its payload was purged by retention; there is nothing left to send"))


def _purged():
    """The delivery's payload was purged by retention: there is nothing left to send."""
    return exists().where(Message.id == Delivery.message_id, Message.payload_purged_at.is_not(None))


def _skip_reasons(ids, changed, rule, cooldown_since=None):
    changed = set(changed)
    rest = [i for i in ids if i not in changed]
    rows = db.session.execute(
        select(Delivery.id, Delivery.status, Delivery.manual_retry_at, Message.payload_purged_at)
        .join(Message, Message.id == Delivery.message_id).where(Delivery.id.in_(rest))
    ).all()
    found = {row.id: row for row in rows}
    reasons = {}
    for delivery_id in rest:
        row = found.get(delivery_id)
        if row is None:
            reasons[delivery_id] = MISSING
        elif cooldown_since and row.manual_retry_at and row.manual_retry_at > cooldown_since:
            minutes = max(round((utcnow() - cooldown_since).total_seconds() / 60), 1)
            reasons[delivery_id] = SkipReason(_l("retried by hand in the last %(minutes)s min (cooldown)",
                                                 minutes=minutes))
        elif row.payload_purged_at is not None:
            reasons[delivery_id] = PURGED
        else:
            reasons[delivery_id] = SkipReason(_l("is %(status)s; %(rule)s", status=status_word(row.status), rule=rule))
    return reasons


def retry_deliveries(ids, *, trigger=AttemptTrigger.MANUAL, actor=None, restart_schedule=False,
                     cooldown_seconds=None, audit_action: Action | None = Action.DELIVERIES_RETRY):
    """Ask for one attempt now at each failed or pending delivery; commit, then enqueue.

    The attempt is one-off: if it fails, a failed delivery stays failed and a pending one returns to
    its planned time. restart_schedule=True instead starts the automatic retry chain afresh. With
    cooldown_seconds, a delivery retried by hand more recently than that is skipped. The change is
    audited as audit_action by actor (pass audit_action=None when the caller audits, as jobs do).
    """
    return _attempt_again(ids, Delivery.RETRYABLE, trigger, actor, audit_action, cooldown_seconds, restart_schedule,
                          verb="retried", rule=_l("only failed or pending deliveries can be retried"))


def replay_deliveries(ids, *, actor=None, cooldown_seconds=None,
                      audit_action: Action | None = Action.DELIVERIES_REPLAY):
    """Send each delivery again, whatever its status (a succeeded one too), as one attempt with trigger replay.

    A replay that fails leaves the delivery failed (a pending one returns to its planned time). Skips,
    cooldown, audit and enqueueing are those of retry_deliveries.
    """
    return _attempt_again(ids, Delivery.REPLAYABLE, AttemptTrigger.REPLAY, actor, audit_action, cooldown_seconds,
                          False, verb="replayed", rule=_l("a delivery being sent cannot be replayed"))


def _attempt_again(ids, statuses, trigger, actor, audit_action: Action | None, cooldown_seconds, restart_schedule, *,
                   verb, rule):
    ids = list(dict.fromkeys(ids))
    now = utcnow()
    cooldown_since = now - timedelta(seconds=cooldown_seconds) if cooldown_seconds else None
    request = {"next_trigger": trigger, "next_triggered_by": actor.name if actor else None}
    if restart_schedule:
        request = {"next_trigger": None, "next_triggered_by": None, "scheduled_attempt_count": 0}
    changed = []
    # IMPORTANT: pending first: the rows this turns pending must not be matched again as pending.
    for status in sorted(statuses, key=lambda s: s is not DeliveryStatus.PENDING):
        values = dict(status=DeliveryStatus.PENDING, next_attempt_at=now, enqueued_at=None, manual_retry_at=now,
                      resolved_at=None, resolved_by=None, resolved_note=None, **request)
        if not restart_schedule:  # where a failed one-off attempt leaves the delivery
            values["resume_at"] = Delivery.next_attempt_at if status is DeliveryStatus.PENDING else None
        statement = update(Delivery).where(Delivery.id.in_(ids), Delivery.status == status, ~_purged())
        if cooldown_since:
            statement = statement.where(
                or_(Delivery.manual_retry_at.is_(None), Delivery.manual_retry_at <= cooldown_since)
            )
        changed += db.session.scalars(
            statement.values(**values).returning(Delivery.id).execution_options(synchronize_session=False)
        ).all()
    outcome = OperationResult(changed, _skip_reasons(ids, changed, rule, cooldown_since))
    if audit_action and actor and changed:
        record(actor, audit_action, outcome.summary(verb), target_type="delivery", target_ids=changed,
               after={"skipped": outcome.skipped_by_reason()} if outcome.skipped else None)
    for delivery_id in changed:
        enqueue_after_commit(db.session, delivery_id)
    db.session.commit()
    return outcome


def resolve_deliveries(ids, note, *, actor, audit_action: Action = Action.DELIVERIES_RESOLVE):
    """Mark failed deliveries resolved with a note: they stay failed but leave the Failed tab; audited."""
    note = check_note(note, _l("a resolution"))
    outcome = _change(ids, Delivery.status.in_(Delivery.RESOLVABLE) & Delivery.resolved_at.is_(None),
                      dict(resolved_at=utcnow(), resolved_by=actor.name, resolved_note=note),
                      _l("only unresolved failed deliveries can be resolved"), "resolved", actor, audit_action,
                      after={"note": note})
    _wake_their_keys(outcome.changed)
    db.session.commit()
    return outcome


def cancel_deliveries(ids, *, actor=None, audit_action: Action = Action.DELIVERIES_CANCEL):
    """Cancel pending deliveries (and sending ones whose worker is gone) so no further attempt is made; audit and
    commit."""
    outcome = _change(ids, Delivery.cancellable(utcnow()),
                      dict(status=DeliveryStatus.CANCELLED, next_attempt_at=None, next_trigger=None, resume_at=None,
                           lease_token=None, lease_expires_at=None, held_reason=None),
                      _l("only pending deliveries, or sending ones whose lease ran out, can be cancelled"),
                      "cancelled", actor, audit_action)
    _wake_their_keys(outcome.changed)
    db.session.commit()
    return outcome


def _wake_their_keys(ids):
    """Wake workers once committed: a delivery resolved or cancelled may have held up the rest of its ordering key
    (app.delivery.attempt.ordering), now free to go. The wake-up names it; the worker claims what is due."""
    for delivery_id in ids:
        enqueue_after_commit(db.session, delivery_id)


def _change(ids, condition, values, refusal, verb, actor, audit_action, after=None):
    """Set values on those of ids matching condition; return the OperationResult (the others skipped with the
    refusal), audited when actor and audit_action are given. Does not commit."""
    ids = list(dict.fromkeys(ids))
    changed = db.session.scalars(
        update(Delivery).where(Delivery.id.in_(ids), condition).values(**values)
        .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    outcome = OperationResult(list(changed), _skip_reasons(ids, changed, refusal))
    if audit_action and actor and changed:
        record(actor, audit_action, outcome.summary(verb), target_type="delivery", target_ids=changed, after=after)
    return outcome


def send_scheduled_now(ids, *, actor=None, audit_action=Action.DELIVERIES_SEND_NOW):
    """Send scheduled deliveries now instead of at their message's deliver_at: due at once, as the first attempt
    of their automatic chain; audit, commit, then enqueue."""
    outcome = _change(ids, (Delivery.status == DeliveryStatus.PENDING) & (Delivery.held_reason == SCHEDULED),
                      dict(next_attempt_at=utcnow(), held_reason=None),
                      _l("only deliveries waiting for their scheduled time can be sent now"), "sent", actor,
                      audit_action)
    for delivery_id in outcome.changed:
        enqueue_after_commit(db.session, delivery_id)
    db.session.commit()
    return outcome


def _one(outcome, delivery_id):
    return the_one(outcome, delivery_id, lambda row_id: db.session.get(Delivery, row_id), OperationResult.NOUN[0],
                   MISSING)


def retry_delivery(delivery_id, *, actor=None, **options):
    """Retry one delivery; raise NotFound or IllegalTransition when it cannot be."""
    options.setdefault("audit_action", Action.DELIVERY_RETRY)
    return _one(retry_deliveries([delivery_id], actor=actor, **options), delivery_id)


def replay_delivery(delivery_id, *, actor=None, **options):
    """Replay one delivery; raise NotFound or IllegalTransition when it cannot be."""
    options.setdefault("audit_action", Action.DELIVERY_REPLAY)
    return _one(replay_deliveries([delivery_id], actor=actor, **options), delivery_id)


def resolve_delivery(delivery_id, note, *, actor):
    """Mark one failed delivery resolved; raise NotFound or IllegalTransition when it cannot be."""
    return _one(resolve_deliveries([delivery_id], note, actor=actor, audit_action=Action.DELIVERY_RESOLVE), delivery_id)


def cancel_delivery(delivery_id, *, actor=None):
    """Cancel one delivery; raise NotFound or IllegalTransition when it cannot be."""
    return _one(cancel_deliveries([delivery_id], actor=actor, audit_action=Action.DELIVERY_CANCEL), delivery_id)
