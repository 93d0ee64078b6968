"""Settings admins change on the settings page; each falls back to its configured default.

A setting is a whole number in a range, a percentage, one of a few choices, a list of email
addresses or a URL. Each is parsed and checked here, once, for the page and for any other caller.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, g

from app.audit import Action, record
from app.errors import InvalidInput
from app.extensions import db
from app.models import Setting

#: A plausible email address (the SMTP server has the last word).
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


@dataclass(frozen=True)
class Definition:
    key: str
    config_key: str
    label: str
    low: float = 0
    high: float = 0
    #: int, percent, choice, emails or url.
    kind: str = "int"
    choices: tuple = ()
    #: Shown beside the field, e.g. the compliance warning of the 30-day retention.
    help: str = ""

    def parse(self, raw):
        """Return the value raw stands for, or raise InvalidInput saying what is wrong."""
        text = str(raw).strip()
        return _PARSERS[self.kind](self, text)

    def display(self, value):
        """The value as the page's field shows it."""
        if self.kind == "emails":
            return ", ".join(value or [])
        if self.kind == "percent":
            return f"{value:g}"
        return "" if value is None else str(value)


def _int(definition, text):
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{definition.label}: enter a whole number", field=definition.key) from None
    if not definition.low <= value <= definition.high:
        raise InvalidInput(f"{definition.label}: must be from {definition.low:g} to {definition.high:g}",
                           field=definition.key)
    return value


def _percent(definition, text):
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        raise InvalidInput(f"{definition.label}: enter a percentage such as 90 or 99.5", field=definition.key) from None
    if not 0 <= value <= 100:
        raise InvalidInput(f"{definition.label}: must be from 0 to 100", field=definition.key)
    return value


def _choice(definition, text):
    if text not in {str(c) for c in definition.choices}:
        options = " or ".join(str(c) for c in definition.choices)
        raise InvalidInput(f"{definition.label}: choose {options}", field=definition.key)
    return type(definition.choices[0])(text)


def _emails(definition, text):
    emails = [part.strip() for part in re.split(r"[,;\s]+", text) if part.strip()]
    bad = [e for e in emails if not EMAIL.match(e)]
    if bad:
        raise InvalidInput(f"{definition.label}: not an email address: {', '.join(bad)}", field=definition.key)
    return emails


def _url(definition, text):
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{definition.label}: enter an http:// or https:// URL", field=definition.key)
    return text


_PARSERS = {"int": _int, "percent": _percent, "choice": _choice, "emails": _emails, "url": _url}

#: Every setting, in the order the settings page shows them.
DEFINITIONS = (
    Definition("retry_cooldown_seconds", "MONITOR_RETRY_COOLDOWN_SECONDS",
               "Seconds before the same delivery may be retried by hand again", 0, 86_400),
    Definition("retry_hourly_cap", "MONITOR_RETRY_HOURLY_CAP",
               "Retry actions one person may take per hour (a bulk action counts once; 0 = no cap)", 0, 100_000),
    Definition("refresh_seconds", "MONITOR_REFRESH_SECONDS",
               "Seconds between auto-refreshes of the monitor and the overview", 5, 3_600),
    Definition("payload_retention_days", "PAYLOAD_RETENTION_DAYS",
               "Days payloads, response bodies and request headers are kept", kind="choice", choices=(7, 30),
               help="30 days keeps customer data (names, addresses, order contents) four times as long: more "
                    "database storage to pay for, and more personal data to protect, disclose and delete on "
                    "request under your privacy obligations. Choose it only if an audit or contract requires it."),
    Definition("alert_success_rate_percent", "ALERT_SUCCESS_RATE_PERCENT",
               "Alert when the success rate (per endpoint and overall) falls below this percentage",
               kind="percent"),
    Definition("alert_window_minutes", "ALERT_WINDOW_MINUTES", "Over this many minutes", 5, 1_440),
    Definition("alert_min_attempts", "ALERT_MIN_ATTEMPTS",
               "Only once at least this many attempts were made in the window", 1, 100_000),
    Definition("alert_backlog_minutes", "ALERT_BACKLOG_MINUTES",
               "Alert when the oldest pending delivery is overdue by this many minutes", 1, 10_080),
    Definition("alert_email_to", "ALERT_EMAIL_TO", "Send alerts by email to", kind="emails"),
    Definition("alert_webhook_url", "ALERT_WEBHOOK_URL", "Send alerts as a JSON POST to", kind="url"),
    Definition("digest_email_to", "DIGEST_EMAIL_TO", "Send the daily digest to (empty: the alert recipients)",
               kind="emails"),
)
_BY_KEY = {d.key: d for d in DEFINITIONS}


def _changed_values():
    """The settings admins changed, read once per request or job (a page reads several)."""
    if "hookyard_settings" not in g:
        g.hookyard_settings = {row.key: row.value for row in db.session.query(Setting)}
    return g.hookyard_settings


def get_setting(key):
    """Return the current value of a setting."""
    definition = _BY_KEY[key]
    values = _changed_values()
    return values[key] if key in values else current_app.config[definition.config_key]


def list_settings():
    """Return (definition, current value, default, row or None) for every setting."""
    rows = {row.key: row for row in db.session.query(Setting)}
    return [(d, rows[d.key].value if d.key in rows else current_app.config[d.config_key],
             current_app.config[d.config_key], rows.get(d.key)) for d in DEFINITIONS]


def set_setting(key, raw_value, *, actor):
    """Validate and store a setting; audited with before and after."""
    definition = _BY_KEY.get(key)
    if definition is None:
        raise InvalidInput(f"unknown setting {key}", field="key")
    value = definition.parse(raw_value)
    before = get_setting(key)
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value, row.updated_by = value, actor.name
    db.session.add(row)
    record(actor, Action.SETTING_UPDATE, f"{key}: {definition.display(before)} -> {definition.display(value)}",
           target_type="setting", target_ids=[key], before={key: before}, after={key: value})
    db.session.commit()
    g.pop("hookyard_settings", None)
    return value
