"""Settings admins change on the settings page; each falls back to its configured default (the environment's value).

Each is parsed and checked here, once (app.staff.setting_kinds), for the page and for any other caller. Readers call
get_setting(key): the workers' attempt pipeline reads the breaker, auto-disable and retry settings through it for
every failed attempt, so what admins changed is read at most once per CACHE_SECONDS per process, not per call.
"""

from time import monotonic

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.audit import Action, record
from app.errors import InvalidInput, english
from app.extensions import db
from app.models import Setting
from app.staff.setting_kinds import Definition, ranged

#: How long a process trusts what it read of the settings table: a change takes effect in the process that made it
#: at once, in every other process (web, workers) within this many seconds.
CACHE_SECONDS = 5.0
#: Where each app keeps (read at, {key: value}) of the settings admins changed.
_CACHE_KEY = "hookyard_settings"

MONITOR, DELIVERY, ALERTS, INBOUND, KEEPING, PORTAL = "monitor", "delivery", "alerts", "inbound", "retention", "portal"
#: Each section's heading on the settings page, in the page's language (the sections are keyed by a stable name).
SECTION_TITLES = {MONITOR: _l("Monitor and retries by hand"), DELIVERY: _l("Delivery"), ALERTS: _l("Alerts"),
                  INBOUND: _l("Inbound alerts"), KEEPING: _l("Retention"), PORTAL: _l("Partner portal")}
#: Every setting, in the order the settings page shows them.
DEFINITIONS = (
    Definition("retry_cooldown_seconds", "MONITOR_RETRY_COOLDOWN_SECONDS",
               _l("Seconds before the same delivery may be retried by hand again"), 0, 86_400, section=MONITOR),
    Definition("retry_hourly_cap", "MONITOR_RETRY_HOURLY_CAP",
               _l("Retry actions one person may take per hour (a bulk action counts once; 0 = no cap)"), 0, 100_000,
               section=MONITOR),
    Definition("refresh_seconds", "MONITOR_REFRESH_SECONDS",
               _l("Seconds between auto-refreshes of the monitor and the overview"), 5, 3_600, section=MONITOR),
    ranged("breaker_threshold", "WEBHOOK_BREAKER_THRESHOLD",
           _l("Failures in a row (timeouts, connection errors, 5xx, 429) that open an endpoint's circuit breaker and "
              "mark it failing"), section=DELIVERY),
    ranged("breaker_cooldown_seconds", "WEBHOOK_BREAKER_COOLDOWN_SECONDS",
           _l("Seconds an open breaker holds an endpoint's attempts before one probe goes"), kind="number",
           section=DELIVERY),
    ranged("auto_disable_after_seconds", "WEBHOOK_AUTO_DISABLE_AFTER_SECONDS",
           _l("Seconds of nothing but failed attempts after which an endpoint is disabled"), kind="number",
           section=DELIVERY),
    Definition("retry_schedule", "WEBHOOK_RETRY_SCHEDULE",
               _l("Seconds before each automatic retry, comma-separated (endpoints without their own schedule)"),
               kind="schedule", section=DELIVERY,
               help=_l("A longer schedule gives new endpoints more attempts; an endpoint keeps the number of attempts "
                       "it was created with, and waits the last step's time for any attempt beyond the list.")),
    Definition("alert_success_rate_percent", "ALERT_SUCCESS_RATE_PERCENT",
               _l("Alert when the success rate (per endpoint and overall) falls below this percentage"),
               kind="percent", section=ALERTS),
    Definition("alert_window_minutes", "ALERT_WINDOW_MINUTES", _l("Over this many minutes"), 5, 1_440, section=ALERTS),
    Definition("alert_min_attempts", "ALERT_MIN_ATTEMPTS",
               _l("Only once at least this many attempts were made in the window"), 1, 100_000, section=ALERTS),
    Definition("alert_backlog_minutes", "ALERT_BACKLOG_MINUTES",
               _l("Alert when the oldest pending delivery is overdue by this many minutes"), 1, 10_080, section=ALERTS),
    Definition("alert_email_to", "ALERT_EMAIL_TO", _l("Send alerts by email to"), kind="emails", section=ALERTS),
    Definition("alert_webhook_url", "ALERT_WEBHOOK_URL", _l("Send alerts as a JSON POST to"), kind="url",
               section=ALERTS),
    Definition("digest_email_to", "DIGEST_EMAIL_TO", _l("Send the daily digest to (empty: the alert recipients)"),
               kind="emails", section=ALERTS),
    ranged("inbound_alert_failures", "INBOUND_ALERT_FAILURES",
           _l("Alert when this many processings of one source's events failed in an hour"), section=INBOUND),
    ranged("inbound_alert_rejections", "INBOUND_ALERT_REJECTIONS",
           _l("Alert when this many requests to one source were refused (bad signature) in an hour"), section=INBOUND),
    ranged("inbound_unprocessed_alert_minutes", "INBOUND_UNPROCESSED_ALERT_MINUTES",
           _l("Alert when received inbound events wait unprocessed this many minutes"), section=INBOUND),
    Definition("payload_retention_days", "PAYLOAD_RETENTION_DAYS",
               _l("Days payloads, response bodies and request headers are kept"), kind="choice", choices=(7, 30),
               section=KEEPING,
               help=_l("30 days keeps customer data (names, addresses, order contents) four times as long: more "
                       "database storage to pay for, and more personal data to protect, disclose and delete on "
                       "request under your privacy obligations. Choose it only if an audit or contract requires it.")),
    ranged("record_retention_days", "RECORD_RETENTION_DAYS",
           _l("Days messages, deliveries, attempts and inbound events are kept before they are deleted"),
           section=KEEPING),
    Definition("shop_name", "SHOP_NAME", _l("Shop name (the partner portal's header and page titles, partner emails)"),
               kind="text", section=PORTAL),
)
_BY_KEY = {d.key: d for d in DEFINITIONS}


def _changed_values():
    """The settings admins changed, as this process last read them (at most CACHE_SECONDS ago)."""
    cached = current_app.extensions.get(_CACHE_KEY)
    now = monotonic()
    if cached is None or now - cached[0] >= CACHE_SECONDS:
        cached = (now, {row.key: row.value for row in db.session.query(Setting)})
        current_app.extensions[_CACHE_KEY] = cached
    return cached[1]


def forget_changed_values():
    """Read the settings table again at the next get_setting (after a change, or in a test)."""
    current_app.extensions.pop(_CACHE_KEY, None)


def get_setting(key):
    """Return the current value of a setting."""
    definition = _BY_KEY[key]
    values = _changed_values()
    return values[key] if key in values else current_app.config[definition.config_key]


def list_settings():
    """Return (definition, current value, default, row or None) for every setting, read now."""
    rows = {row.key: row for row in db.session.query(Setting)}
    return [(d, rows[d.key].value if d.key in rows else current_app.config[d.config_key],
             current_app.config[d.config_key], rows.get(d.key)) for d in DEFINITIONS]


class SettingsRefused(InvalidInput):
    """Raised when one or more values sent for settings are not acceptable: errors holds {key: why} in English,
    localized_errors the same in the page's language."""

    def __init__(self, reasons):
        super().__init__(LazyString(lambda: "; ".join(str(why) for why in reasons.values())), field=next(iter(reasons)))
        self.errors = {key: english(why) for key, why in reasons.items()}
        self._reasons = reasons

    @property
    def localized_errors(self):
        """{key: why} in the page's language, as plain text."""
        return {key: str(why) for key, why in self._reasons.items()}


def set_settings(raw_values, *, actor):
    """Validate every value of {key: raw value}, then store them all, each audited with before and after; if any is
    refused, raise SettingsRefused and store none. Returns {key: value stored}."""
    parsed, errors = {}, {}
    for key, raw in raw_values.items():
        definition = _BY_KEY.get(key)
        try:
            if definition is None:
                raise InvalidInput(_l("unknown setting %(key)s", key=key), field="key")
            parsed[key] = definition.parse(raw)
        except InvalidInput as exc:
            errors[key] = exc.text
    if errors:
        raise SettingsRefused(errors)
    rows = {row.key: row for row in db.session.query(Setting).filter(Setting.key.in_(list(parsed)))}
    for key, value in parsed.items():
        _store(_BY_KEY[key], rows.get(key), value, actor)
    db.session.commit()
    forget_changed_values()
    return parsed


def _store(definition, row, value, actor):
    key = definition.key
    before = row.value if row is not None else current_app.config[definition.config_key]
    if isinstance(before, tuple):
        before = list(before)
    row = row or Setting(key=key)
    row.value, row.updated_by = value, actor.name
    db.session.add(row)
    record(actor, Action.SETTING_UPDATE, _l("%(key)s: %(before)s -> %(after)s", key=key,
                                          before=definition.display(before), after=definition.display(value)),
           target_type="setting", target_ids=[key], before={key: before}, after={key: value})


def set_setting(key, raw_value, *, actor):
    """Validate and store one setting; audited with before and after."""
    try:
        return set_settings({key: raw_value}, actor=actor)[key]
    except SettingsRefused as exc:
        raise InvalidInput(exc.text, field=key) from None
