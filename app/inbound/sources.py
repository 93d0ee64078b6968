"""Manage inbound sources: create, change, rotate the secret, pause/resume/disable, delete.

Every change is audited with before and after; a secret never is (only how many verify).
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.audit import SYSTEM, Action, record
from app.credentials import crypto, rotation
from app.errors import IllegalTransition, InvalidInput
from app.extensions import db
from app.inbound import source_rules as checks
from app.models import (
    InboundCount,
    InboundEvent,
    InboundRejection,
    InboundSource,
    InboundStatus,
    SourceState,
    utcnow,
)
from app.rows import get_or_not_found
from app.status_words import state_change
from app.text import check_text

#: Settings a person may change after creation, each with its check (name and provider are fixed: the name is
#: the URL pasted into the provider, and the provider decides what the secret is).
EDITABLE = ("description", "forward", "tolerance_seconds", "options", "silence_alert_minutes")
#: The audit action for each state a person moves a source to.
STATE_ACTIONS = {SourceState.ENABLED: Action.INBOUND_SOURCE_RESUME, SourceState.PAUSED: Action.INBOUND_SOURCE_PAUSE,
                 SourceState.DISABLED: Action.INBOUND_SOURCE_DISABLE}
#: Events still to be processed: deleting their source needs force.
WAITING = (InboundStatus.RECEIVED, InboundStatus.PROCESSING)


def describe(source):
    """The source's settings as a dict for the audit log: never a secret."""
    return {
        "name": source.name, "provider": source.provider.value, "description": source.description,
        "tolerance_seconds": source.tolerance_seconds, "options": source.options, "forward": source.forward,
        "state": source.state.value, "state_reason": source.state_reason,
        "silence_alert_minutes": source.silence_alert_minutes,
    }


def _check(provider, name, value):
    if name == "description":
        return check_text(value, "description", 2000, one_line=False)
    if name == "forward":
        return checks.check_forward(value)
    if name == "tolerance_seconds":
        return checks.check_tolerance(value)
    if name == "silence_alert_minutes":
        return checks.check_silence(value)
    return checks.check_options(provider, value)


def _taken(name):
    return db.session.scalar(select(func.count()).select_from(InboundSource).where(InboundSource.name == name))


def create_source(*, name, provider, secret=None, forward=False, tolerance_seconds=300, options=None,
                  description=None, silence_alert_minutes=None, actor=SYSTEM):
    """Create a source; return (source, secret to show once: the generated one, or None when secret was given)."""
    name, provider = checks.check_name(name), checks.check_provider(provider)
    clean = {field: _check(provider, field, value) for field, value in (
        ("description", description), ("forward", forward), ("tolerance_seconds", tolerance_seconds),
        ("options", options), ("silence_alert_minutes", silence_alert_minutes))}
    shown = None if secret is not None else checks.generate_secret(provider)
    secret = checks.check_secret(provider, secret) if secret is not None else shown
    if _taken(name):
        raise InvalidInput(_l("a source named %(name)s exists already", name=name), field="name")
    source = InboundSource(name=name, provider=provider, secret_encrypted=crypto.encrypt(secret),
                           secret_created_at=utcnow(), retired_secrets=[], **clean)
    db.session.add(source)
    try:
        db.session.flush()
    except IntegrityError:  # created at the same moment by someone else
        db.session.rollback()
        raise InvalidInput(_l("a source named %(name)s exists already", name=name), field="name") from None
    summary = _l("created inbound source %(name)s (%(provider)s)", name=name, provider=provider.value)
    record(actor, Action.INBOUND_SOURCE_CREATE, summary,
           target_type="inbound_source", target_ids=[source.id], after=describe(source))
    db.session.commit()
    return source, shown


def update_source(source, changes, actor=SYSTEM):
    """Validate and apply changes (any of EDITABLE, plus state/state_reason); nothing changes on bad input."""
    source = _row(source)
    changes = dict(changes)
    state, reason = changes.pop("state", None), changes.pop("state_reason", None)
    fixed = sorted(set(changes) & {"name", "provider"})
    if fixed:
        raise InvalidInput(_l("%(fixed)s cannot change: create a new source instead", fixed=fixed[0]), field=fixed[0])
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(_l("unknown source settings: %(unknown)s", unknown=', '.join(unknown)), field=unknown[0])
    clean = {field: _check(source.provider, field, value) for field, value in changes.items()}
    state = checks.check_state(state) if state is not None else None
    before = describe(source)
    for field, value in clean.items():
        setattr(source, field, value)
    after = describe(source)
    old = {k: before[k] for k in after if before[k] != after[k]}
    if old:
        summary = _l("changed %(fields)s of inbound source %(name)s",
                     fields=", ".join(k.replace("_", " ") for k in old), name=source.name)
        record(actor, Action.INBOUND_SOURCE_UPDATE, summary, target_type="inbound_source", target_ids=[source.id],
               before=old, after={k: after[k] for k in old})
    db.session.commit()
    if state is not None:
        source = set_source_state(source, state, reason, actor)
    return source


def rotate_source_secret(source, *, new_secret=None, grace_hours=None, grace_seconds=None, actor=SYSTEM):
    """Replace the source's secret with new_secret (or a generated one); return the new secret.

    The old one keeps verifying for the grace period (grace_hours or grace_seconds; default and limits those of
    endpoint rotation: app.credentials.rotation), as Shopify and Stripe sign with it a while longer.
    """
    source = _row(source)
    grace = rotation.check_grace(grace_seconds if grace_seconds is not None else _hours(grace_hours))
    secret = checks.generate_secret(source.provider) if new_secret is None else checks.check_secret(
        source.provider, new_secret, "new_secret")
    now = utcnow()
    retired = rotation.retire_current(source, grace, now)
    source.secret_encrypted, source.secret_created_at, source.retired_secrets = crypto.encrypt(secret), now, retired
    summary = _l("rotated the secret of inbound source %(name)s; the old one verifies for %(grace)s s",
                 name=source.name, grace=grace)
    record(actor, Action.INBOUND_SOURCE_ROTATE_SECRET,
           summary,
           target_type="inbound_source", target_ids=[source.id],
           after={"grace_seconds": grace, "secrets_verifying": 1 + len(retired)})
    db.session.commit()
    return secret


def _hours(value):
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value or value < 0:
        raise InvalidInput(_l("grace_hours must be a number of hours from 0 to 168"), field="grace_hours")
    return round(value * 3600) if value <= 10**6 else 10**10  # too long either way: check_grace says so


def set_source_state(source, state, reason=None, actor=SYSTEM):
    """Enable, pause or disable a source. Resuming processes the events it held while paused."""
    source = _row(source)
    state, reason = checks.check_state(state), check_text(reason, "state_reason", 500)
    if state is source.state:
        return source
    before = {"state": source.state.value, "state_reason": source.state_reason}
    source.state, source.state_reason = state, reason
    source.state_changed_at, source.state_changed_by = utcnow(), actor.name
    if state is SourceState.ENABLED:
        from app.inbound.processing import wake_source  # late: processing imports the task machinery

        wake_source(db.session, source.id)  # enqueues the held events once this commits
    record(actor, STATE_ACTIONS[state], state_change(state, _l("inbound source %(name)s", name=source.name), reason),
           target_type="inbound_source", target_ids=[source.id], before=before,
           after={"state": state.value, "state_reason": reason})
    db.session.commit()
    return source


def delete_source(source, actor=SYSTEM, *, force=False):
    """Delete a source with its events, their attempts and its counts; return how many events went with it.

    Refused while events wait to be processed, unless force. Its URL answers 404 at once."""
    source = _row(source)
    count = select(func.count()).select_from(InboundEvent).where(InboundEvent.source_id == source.id)
    events, waiting = db.session.scalar(count), db.session.scalar(count.where(InboundEvent.status.in_(WAITING)))
    if waiting and not force:
        raise IllegalTransition(_l("inbound source %(source)s has %(waiting)s events waiting to be processed; pause "
                                   "it and let them finish, or delete with force", source=source.name, waiting=waiting))
    summary = _l("deleted inbound source %(name)s and its %(events)s events", name=source.name, events=events)
    record(actor, Action.INBOUND_SOURCE_DELETE, summary,
           target_type="inbound_source", target_ids=[source.id], before={**describe(source), "events": events})
    # Events, attempts and handles go by ON DELETE CASCADE; counts and rejections are kept by name.
    db.session.execute(delete(InboundSource).where(InboundSource.id == source.id))
    db.session.execute(delete(InboundCount).where(InboundCount.source_name == source.name))
    db.session.execute(delete(InboundRejection).where(InboundRejection.source_name == source.name))
    db.session.expunge(source)
    db.session.commit()
    return events


def get_source(source_id):
    """Return the source or raise NotFound."""
    return get_or_not_found(InboundSource, source_id, f"no inbound source with id {source_id}", text_key=True)


def list_sources():
    """Every source, by name."""
    return db.session.scalars(select(InboundSource).order_by(InboundSource.name)).all()


def _row(source):
    return source if isinstance(source, InboundSource) else get_source(source)
