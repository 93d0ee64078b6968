"""Manage endpoints: create, change, pause/resume/disable, delete. Every change is audited with before and after."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.audit import SYSTEM, Action, record
from app.checks import check_flag
from app.credentials import crypto
from app.credentials.masking import MASK
from app.credentials.signatures import generate_secret
from app.delivery import matching
from app.delivery.attempt.addresses import check_url, outbound_policy
from app.delivery.endpoints import rules
from app.delivery.queries import pending_count
from app.errors import IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.models import (
    BulkJob,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointState,
    JobKind,
    PayloadContentType,
    PayloadFormat,
    SigningScheme,
    utcnow,
)
from app.outbox import start_job_after_commit
from app.staff.settings import get_setting
from app.status_words import state_change
from app.text import check_text, has_control

#: Settings a person may change, each with its check.
EDITABLE = {
    "url": lambda v: _check_url(v),
    "name": lambda v: check_text(v, "name", 200),
    "description": lambda v: check_text(v, "description", 2000, one_line=False),
    "event_types": matching.check_patterns,
    "signing": lambda v: _scheme(v),
    "headers": rules.check_headers,
    "timeout_seconds": rules.check_timeout,
    "max_attempts": rules.check_max_attempts,
    "retry_schedule": rules.check_schedule,
    "rate_limit_per_second": rules.check_rate_limit,
    "max_in_flight": rules.check_max_in_flight,
    "partner_email": rules.check_email,
    "payload_format": rules.check_payload_format,
    "payload_content_type": rules.check_payload_content_type,
    "payload_template": rules.check_payload_template,
    "alert_on_failure": lambda v: check_flag(v, "alert_on_failure"),
    "ordering_failure": rules.check_ordering_failure,
}


#: The audit action for each state a person moves an endpoint to.
STATE_ACTIONS = {EndpointState.ENABLED: Action.ENDPOINT_RESUME, EndpointState.PAUSED: Action.ENDPOINT_PAUSE,
                 EndpointState.DISABLED: Action.ENDPOINT_DISABLE}


def _check_url(url):
    if not isinstance(url, str) or len(url) > 2048 or has_control(url, one_line=True) or " " in url:
        raise InvalidInput(_l("url must be text of at most 2048 characters without spaces or control characters"),
                           field="url")
    check_url(url, outbound_policy())
    return url


def _scheme(value):
    return rules.one_of(SigningScheme, value, "signing")


def describe(endpoint):
    """The endpoint's settings as a dict for the audit log: never a secret nor a header value."""
    return {
        "url": endpoint.url, "name": endpoint.name, "description": endpoint.description,
        "event_types": endpoint.event_types, "signing": endpoint.signing.value,
        "headers": dict.fromkeys(endpoint.header_names, MASK),
        "timeout_seconds": endpoint.timeout_seconds,
        "max_attempts": endpoint.max_attempts, "retry_schedule": endpoint.retry_schedule,
        "rate_limit_per_second": endpoint.rate_limit_per_second, "max_in_flight": endpoint.max_in_flight,
        "partner_email": endpoint.partner_email,
        "payload_format": _value(endpoint.payload_format, PayloadFormat.STANDARD),
        "payload_content_type": _value(endpoint.payload_content_type, PayloadContentType.JSON),
        "payload_template": endpoint.payload_template,
        "ordering_failure": endpoint.ordering_failure.value if endpoint.ordering_failure else "hold",
        "state": endpoint.state.value,
        "state_reason": endpoint.state_reason, "operational": bool(endpoint.operational),
        "alert_on_failure": bool(endpoint.alert_on_failure),
    }


def _value(member, default):
    return (member or default).value


def _check_payload(clean, endpoint=None):
    """Check the payload settings as they will be together once clean is applied."""
    def setting(name, default):
        return clean[name] if name in clean else getattr(endpoint, name, None) or default
    rules.check_payload_settings(setting("payload_format", PayloadFormat.STANDARD),
                                 setting("payload_content_type", PayloadContentType.JSON),
                                 setting("payload_template", None))


def _changed(before, after, replaced_headers=()):
    """The audit's before and after: the settings that changed, and the names of header values replaced
    (values are never written down, so a replaced one would otherwise look unchanged)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    old, new = {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
    if replaced_headers:
        new["header_values_replaced"] = list(replaced_headers)
    return old, new


def _store(endpoint, clean):
    """Set validated settings on the endpoint, header values encrypted; return the header names whose value
    was replaced."""
    clean = dict(clean)
    replaced = []
    if "headers" in clean:
        old = crypto.decrypt_headers(endpoint.headers_encrypted)
        replaced = [name for name, value in clean["headers"].items() if name in old and old[name] != value]
        endpoint.headers_encrypted = crypto.encrypt_headers(clean.pop("headers"))
    for name, value in clean.items():
        setattr(endpoint, name, value)
    return replaced


def create_endpoint(url, *, actor=SYSTEM, signing_scheme="standard", timeout_seconds=None, max_attempts=None,
                    operational=False, **fields):
    """Create an endpoint with a new secret; return (endpoint, secret). The secret is stored only encrypted.

    operational: it receives Hookyard's own events (app.delivery.operational), never partner messages."""
    config = current_app.config
    clean = _validated({
        "url": url, "signing": signing_scheme,
        "timeout_seconds": config["WEBHOOK_TIMEOUT_SECONDS"] if timeout_seconds is None else timeout_seconds,
        "max_attempts": len(get_setting("retry_schedule")) + 1 if max_attempts is None else max_attempts,
        **fields,
    })
    _check_payload(clean)
    secret = generate_secret()
    endpoint = Endpoint(secret_encrypted=crypto.encrypt(secret), secret_created_at=utcnow(), retired_secrets=[],
                        headers_encrypted={}, operational=operational)
    _store(endpoint, clean)
    db.session.add(endpoint)
    db.session.flush()
    summary = (_l("created operational endpoint %(url)s", url=endpoint.url) if operational
               else _l("created endpoint %(url)s", url=endpoint.url))
    record(actor, Action.ENDPOINT_CREATE, summary, target_type="endpoint",
           target_ids=[endpoint.id], after=describe(endpoint))
    db.session.commit()
    return endpoint, secret


def _validated(values, stored_headers=None):
    """Check every setting; a header value sent back masked keeps the stored one (stored_headers, decrypted)."""
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise InvalidInput(_l("unknown endpoint settings: %(unknown)s", unknown=', '.join(unknown)), field=unknown[0])
    if isinstance(values.get("headers"), dict):
        values = {**values, "headers": rules.keep_masked(values["headers"], stored_headers or {})}
    return {name: EDITABLE[name](value) for name, value in values.items()}


def update_endpoint(endpoint_id, changes, *, actor):
    """Validate and apply changes (any of EDITABLE, plus state/state_reason); nothing changes on bad input."""
    endpoint = get_endpoint(endpoint_id)
    changes = dict(changes)
    state, reason = changes.pop("state", None), changes.pop("state_reason", None)
    clean = _validated(changes, crypto.decrypt_headers(endpoint.headers_encrypted))
    _check_payload(clean, endpoint)
    before = describe(endpoint)
    replaced = _store(endpoint, clean)
    old, new = _changed(before, describe(endpoint), replaced)
    if new:
        changed = ", ".join(name.replace("_", " ") for name in new)
        record(actor, Action.ENDPOINT_UPDATE, _l("changed %(fields)s of %(url)s", fields=changed, url=endpoint.url),
               target_type="endpoint",
               target_ids=[endpoint.id], before=old, after=new)
    db.session.commit()
    if state is not None:
        endpoint = set_state(endpoint_id, state, actor=actor, reason=reason)
    return endpoint


def set_state(endpoint_id, state, *, actor, reason=None):
    """Enable, pause or disable an endpoint by hand (no alert). Enabling wakes its pending deliveries."""
    endpoint = get_endpoint(endpoint_id)
    try:
        state = EndpointState(state)
    except ValueError:
        raise InvalidInput(_l("state must be enabled, paused or disabled"), field="state") from None
    reason = check_text(reason, "state_reason", 500)
    if state is endpoint.state:
        return endpoint
    before = {"state": endpoint.state.value, "state_reason": endpoint.state_reason}
    endpoint.state, endpoint.state_changed_at, endpoint.state_changed_by = state, utcnow(), actor.name
    endpoint.state_reason = reason
    if state is EndpointState.ENABLED:
        # A fresh start: no failure run and the breaker closed. An outstanding alert stays, so the first
        # success after an auto-disable is announced as a recovery.
        endpoint.consecutive_failures, endpoint.breaker_failures = 0, 0
        endpoint.failing_since, endpoint.breaker_open_until = None, None
        start_job_after_commit(db.session, _wake_job(endpoint, actor).id)
    record(actor, STATE_ACTIONS[state], state_change(state, endpoint.url, endpoint.state_reason),
           target_type="endpoint", target_ids=[endpoint.id], before=before,
           after={"state": state.value, "state_reason": endpoint.state_reason})
    db.session.commit()
    return endpoint


def _wake_job(endpoint, actor):
    """A job that enqueues every pending delivery of a resumed endpoint (they may be many)."""
    job = BulkJob(kind=JobKind.WAKE, filters={"endpoint_id": endpoint.id, "status": "pending"}, requested_by=actor.name,
                  total=pending_count(endpoint.id), touched_at=utcnow())
    db.session.add(job)
    db.session.flush()
    return job


def delete_endpoint(endpoint_id, *, actor, force=False):
    """Remove an endpoint from service, keeping its history. Refused while deliveries wait, unless force,
    which cancels them first."""
    endpoint = get_endpoint(endpoint_id)
    waiting = pending_count(endpoint_id)
    if waiting and not force:
        raise IllegalTransition(_l("endpoint %(endpoint)s has %(waiting)s pending deliveries; cancel them or delete "
                                   "with force to cancel them", endpoint=endpoint_id, waiting=waiting))
    if waiting:
        db.session.execute(update(Delivery).where(
            Delivery.endpoint_id == endpoint_id, Delivery.status == DeliveryStatus.PENDING,
        ).values(status=DeliveryStatus.CANCELLED, next_attempt_at=None).execution_options(synchronize_session=False))
    endpoint.deleted_at, endpoint.state = utcnow(), EndpointState.DISABLED
    summary = (_l("deleted endpoint %(url)s, cancelling %(waiting)s pending", url=endpoint.url, waiting=waiting)
               if waiting else _l("deleted endpoint %(url)s", url=endpoint.url))
    record(actor, Action.ENDPOINT_DELETE, summary,
           target_type="endpoint", target_ids=[endpoint.id], before=describe(endpoint))
    db.session.commit()
    return waiting


def get_endpoint(endpoint_id):
    """Return the endpoint or raise NotFound (deleted endpoints are not found)."""
    endpoint = db.session.get(Endpoint, endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound(_l("no endpoint with id %(endpoint)s", endpoint=endpoint_id))
    return endpoint


def list_endpoints(operational=False):
    """Every partner endpoint in service (operational: every operational one), oldest first."""
    return db.session.scalars(select(Endpoint).where(Endpoint.deleted_at.is_(None),
                                                     Endpoint.operational.is_(operational))
                              .order_by(Endpoint.created_at)).all()
