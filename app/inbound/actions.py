"""What people and API keys do to inbound events: replay them, mark them processed. Each audits and commits;
replay then enqueues (app.outbox), with the hourly cap and the cooldown of outbound retries."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.audit import Action, record
from app.extensions import db
from app.models import InboundEvent, InboundSource, InboundStatus, InboundTrigger, SourceState, utcnow
from app.outbox import process_inbound_after_commit
from app.staff.retry_cap import check_retry_cap
from app.staff.settings import get_setting
from app.status_words import status_word
from app.text import check_note
from app.work.results import OperationResult, SkipReason, the_one

#: Reason given for an event that does not exist.
MISSING = SkipReason(_l("no such inbound event"))
#: Statuses a person may mark processed by hand (seed 004, step 4: the work was done some other way).
SETTLEABLE = (InboundStatus.FAILED, InboundStatus.IGNORED)


class EventActionResult(OperationResult):
    """Which event ids an action changed and why it left the others alone."""

    NOUN = (_l("inbound event"), _l("inbound events"))


def _refused(status, rule):
    """Why an event in status was skipped: "is processing; <rule>"."""
    return SkipReason(_l("is %(status)s; %(rule)s", status=status_word(status), rule=rule))


def replay_refusal(event, source_state, cooldown_since=None):
    """Why event (anything with status, replayed_at and body_purged_at) of a source in source_state cannot be
    replayed now, or None: the rules replay_events applies, in the order it reports them."""
    if cooldown_since and event.replayed_at and event.replayed_at > cooldown_since:
        minutes = max(round((utcnow() - cooldown_since).total_seconds() / 60), 1)
        return SkipReason(_l("replayed by hand in the last %(minutes)s min (cooldown)", minutes=minutes))
    if event.body_purged_at is not None:
        return SkipReason(_l("its body was purged by retention; there is nothing left to process"))
    if source_state is not SourceState.ENABLED:
        return SkipReason(_l("its source is %(state)s; resume it first", state=status_word(source_state)))
    if event.status is InboundStatus.PROCESSING:
        return _refused(event.status, _l("an event being processed cannot be replayed"))
    return None


def settle_refusal(event):
    """Why event cannot be marked processed by hand, or None."""
    if event.status in SETTLEABLE:
        return None
    return _refused(event.status, _l("only failed or ignored events can be marked processed"))


def _skip_reasons(ids, changed, settling, cooldown_since=None):
    changed = set(changed)
    rest = [i for i in ids if i not in changed]
    rows = {row.id: row for row in db.session.execute(
        select(InboundEvent.id, InboundEvent.status, InboundEvent.replayed_at, InboundEvent.body_purged_at,
               InboundSource.state).join(InboundSource, InboundSource.id == InboundEvent.source_id)
        .where(InboundEvent.id.in_(rest)))}
    reasons = {}
    for event_id in rest:
        row = rows.get(event_id)
        if row is None:
            reasons[event_id] = MISSING
        elif settling:
            reasons[event_id] = settle_refusal(row) or _refused(row.status, _l("it changed meanwhile"))
        else:  # a row that changed between the update and this read is reported as the update found it
            reasons[event_id] = (replay_refusal(row, row.state, cooldown_since)
                                 or _refused(row.status, _l("an event being processed cannot be replayed")))
    return reasons


def replay_events(event_ids, actor, *, cooldown_seconds=None, check_cap=True,
                  audit_action: Action = Action.INBOUND_EVENTS_REPLAY):
    """Process events again, whatever their status (not one being processed, nor one of a paused or disabled
    source, nor one whose body was purged); return an EventActionResult. Commits, then enqueues each with trigger
    replay.

    Counts as one retry action against actor's hourly cap (raises LimitReached when used up; check_cap=False
    when the caller checked); an event replayed by hand within cooldown_seconds (default: the staff setting)
    is skipped. Audited as audit_action.
    """
    if check_cap:
        check_retry_cap(actor)
    cooldown = get_setting("retry_cooldown_seconds") if cooldown_seconds is None else cooldown_seconds
    ids, now = list(dict.fromkeys(event_ids)), utcnow()
    cooldown_since = now - timedelta(seconds=cooldown) if cooldown else None
    statement = update(InboundEvent).where(
        InboundEvent.id.in_(ids), InboundEvent.status != InboundStatus.PROCESSING,
        InboundEvent.body_purged_at.is_(None),
        InboundEvent.source_id.in_(select(InboundSource.id).where(InboundSource.state == SourceState.ENABLED)))
    if cooldown_since:
        statement = statement.where(or_(InboundEvent.replayed_at.is_(None), InboundEvent.replayed_at <= cooldown_since))
    changed = db.session.scalars(statement.values(
        status=InboundStatus.RECEIVED, next_attempt_at=now, replayed_at=now, replayed_by=actor.name,
        settled_by=None, settled_note=None,
    ).returning(InboundEvent.id).execution_options(synchronize_session=False)).all()
    outcome = EventActionResult(list(changed), _skip_reasons(ids, changed, False, cooldown_since))
    if changed and audit_action:
        record(actor, audit_action, outcome.summary("replayed"), target_type="inbound_event", target_ids=changed,
               after={"skipped": outcome.skipped_by_reason()} if outcome.skipped else None)
    for event_id in changed:
        process_inbound_after_commit(db.session, event_id, InboundTrigger.REPLAY.value)
    db.session.commit()
    return outcome


def mark_processed(event_ids, note, actor, *, audit_action: Action = Action.INBOUND_EVENTS_MARK_PROCESSED):
    """Settle failed or ignored events by hand with a note (the work was done another way): status processed,
    no further retry; audited with the note. Return an EventActionResult."""
    note = check_note(note, _l("marking processed"))
    ids, now = list(dict.fromkeys(event_ids)), utcnow()
    changed = db.session.scalars(update(InboundEvent).where(
        InboundEvent.id.in_(ids), InboundEvent.status.in_(SETTLEABLE),
    ).values(status=InboundStatus.PROCESSED, processed_at=now, next_attempt_at=None, settled_by=actor.name,
             settled_note=note).returning(InboundEvent.id).execution_options(synchronize_session=False)).all()
    outcome = EventActionResult(list(changed), _skip_reasons(ids, changed, True))
    if changed:
        record(actor, audit_action, outcome.summary("marked processed"), target_type="inbound_event",
               target_ids=changed, after={"note": note})
    db.session.commit()
    return outcome


def _one(outcome, event_id):
    return the_one(outcome, event_id, lambda row_id: db.session.get(InboundEvent, row_id, populate_existing=True),
                   EventActionResult.NOUN[0], MISSING)


def replay_event(event_id, actor, **options):
    """Replay one event; raise NotFound or IllegalTransition when it cannot be (LimitReached over the cap)."""
    options.setdefault("audit_action", Action.INBOUND_EVENT_REPLAY)
    return _one(replay_events([event_id], actor, **options), event_id)


def mark_event_processed(event_id, note, actor):
    """Mark one event processed; raise NotFound or IllegalTransition when it cannot be."""
    return _one(mark_processed([event_id], note, actor, audit_action=Action.INBOUND_EVENT_MARK_PROCESSED), event_id)
