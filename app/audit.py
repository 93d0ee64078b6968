"""The audit log: who did what to which rows, when, from where. Written in the same transaction as the change."""

import enum
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.errors import english
from app.extensions import db
from app.models import AuditEntry
from app.stored_text import shown_or, stored


@enum.unique
class Action(enum.StrEnum):
    """Every audit action: the stored string is the value, so existing rows and filters keep matching.

    Singular names act on one row (a row's button), plural ones on a selection; both spellings are stored
    and counted, so neither may be renamed.
    """

    DELIVERY_RETRY = "delivery.retry"
    DELIVERY_REPLAY = "delivery.replay"
    DELIVERY_CANCEL = "delivery.cancel"
    DELIVERY_RESOLVE = "delivery.resolve"
    DELIVERY_SEND_NOW = "delivery.send_now"
    DELIVERIES_RETRY = "deliveries.retry"
    DELIVERIES_REPLAY = "deliveries.replay"
    DELIVERIES_CANCEL = "deliveries.cancel"
    DELIVERIES_RESOLVE = "deliveries.resolve"
    DELIVERIES_SEND_NOW = "deliveries.send_now"
    DELIVERIES_BULK_RETRY = "deliveries.bulk_retry"
    DELIVERIES_SUPERSEDED = "deliveries.superseded"
    MESSAGE_RESEND = "message.resend"
    MESSAGE_SEND = "message.send"

    ENDPOINT_CREATE = "endpoint.create"
    ENDPOINT_UPDATE = "endpoint.update"
    ENDPOINT_DELETE = "endpoint.delete"
    ENDPOINT_RESUME = "endpoint.resume"
    ENDPOINT_PAUSE = "endpoint.pause"
    ENDPOINT_DISABLE = "endpoint.disable"
    ENDPOINT_AUTO_DISABLE = "endpoint.auto_disable"
    ENDPOINT_TEST = "endpoint.test"
    ENDPOINT_RECOVER = "endpoint.recover"
    ENDPOINT_ROTATE_SECRET = "endpoint.rotate_secret"

    EVENT_TYPE_CREATE = "event_type.create"
    EVENT_TYPE_UPDATE = "event_type.update"
    EVENT_TYPE_DELETE = "event_type.delete"
    REFERENCE_LINK_CREATE = "reference_link.create"
    REFERENCE_LINK_DELETE = "reference_link.delete"

    INBOUND_EVENT_REPLAY = "inbound_event.replay"
    INBOUND_EVENT_MARK_PROCESSED = "inbound_event.mark_processed"
    INBOUND_EVENTS_REPLAY = "inbound_events.replay"
    INBOUND_EVENTS_MARK_PROCESSED = "inbound_events.mark_processed"
    INBOUND_SOURCE_CREATE = "inbound_source.create"
    INBOUND_SOURCE_UPDATE = "inbound_source.update"
    INBOUND_SOURCE_DELETE = "inbound_source.delete"
    INBOUND_SOURCE_RESUME = "inbound_source.resume"
    INBOUND_SOURCE_PAUSE = "inbound_source.pause"
    INBOUND_SOURCE_DISABLE = "inbound_source.disable"
    INBOUND_SOURCE_ROTATE_SECRET = "inbound_source.rotate_secret"

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_PASSWORD = "user.password"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_PASSWORD_REFUSED = "user.password_refused"
    USER_TIME_ZONE = "user.time_zone"
    USER_LOCALE = "user.locale"
    USER_LIFT_CAP = "user.lift_cap"
    USER_HIDE_BANNER = "user.hide_banner"
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    SETTING_UPDATE = "setting.update"
    SHOP_LOGO_UPDATE = "shop_logo.update"
    SHOP_LOGO_REMOVE = "shop_logo.remove"
    PORTAL_LINK_CREATE = "portal_link.create"
    PORTAL_LINK_REVOKE = "portal_link.revoke"
    PORTAL_OPEN = "portal.open"
    PORTAL_SECRET_VIEW = "portal.secret_view"
    PORTAL_PARTNER_EMAIL = "portal.partner_email"

    ALERT_FAILING = "alert.failing"
    ALERT_DISABLED = "alert.disabled"
    ALERT_RECOVERED = "alert.recovered"
    ALERT_PAUSED = "alert.paused"
    ALERT_FINAL_FAILURE = "alert.final_failure"
    ALERT_FIRED = "alert.fired"
    ALERT_SENT = "alert.sent"
    ALERT_TEST = "alert.test"


#: At most this many ids are listed on one entry; a larger set records its count (jobs record their filter).
MAX_TARGET_IDS = 1000
#: A summary's message and values longer than this (as JSON) are not kept: the entry shows its English text.
MAX_MESSAGE_CHARS = 4000
#: Actions whose before/after hold a customer's payload under "payload": retention blanks it with the payloads.
PAYLOAD_ACTIONS = frozenset({Action.MESSAGE_RESEND})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff email, "api:<key name>" or "system", and the address they came from."""

    name: str
    ip: str | None = None


SYSTEM = Actor("system")
#: Whoever runs a `flask --app app ...` command.
CLI = Actor("cli")


def as_action(action):
    """Return action as an Action; raise ValueError for anything that is not one (a typo, an unknown verb)."""
    try:
        return Action(action)
    except ValueError:
        raise ValueError(f"{action!r} is not an audit action: add it to app.audit.Action") from None


def record(actor, action, summary, *, target_type=None, target_ids=None, before=None, after=None):
    """Add an audit entry to the current transaction (the caller's commit writes it with the change).

    summary is a lazy message with named values (`_l("deleted endpoint %(url)s", url=url)`): the entry keeps its
    English text (what the API, the CLI and exports read) and the message with its values apart, so the audit log
    shows it in the reader's language. A plain string raises NotAMessage, as an unknown action raises ValueError.
    """
    action = as_action(action)
    stored(summary)  # refuse a plain string before anything is added
    ids = list(target_ids) if target_ids is not None else None
    if ids is not None and len(ids) > MAX_TARGET_IDS:
        summary = _l("%(summary)s (first %(listed)s of %(count)s ids listed)", summary=summary,
                     listed=MAX_TARGET_IDS, count=len(ids))
        ids = ids[:MAX_TARGET_IDS]
    message = stored(summary)
    if len(json.dumps(message)) > MAX_MESSAGE_CHARS:  # its English text is cut to fit: it reads as stored
        message = None
    entry = AuditEntry(actor=actor.name, ip=actor.ip, action=action.value, summary=english(summary)[:1000],
                       summary_message=message, target_type=target_type, target_ids=ids, before=before, after=after)
    db.session.add(entry)
    return entry


def shown_summary(entry):
    """An entry's summary in the reader's language; as stored (English) for entries written before summaries kept
    their message apart."""
    return shown_or(entry.summary_message, entry.summary)
