"""Settings admins change on the settings page; each falls back to its configured default."""

from dataclasses import dataclass

from flask import current_app

from app.audit import record
from app.errors import InvalidInput
from app.extensions import db
from app.models import Setting


@dataclass(frozen=True)
class Definition:
    key: str
    config_key: str
    label: str
    low: int
    high: int


#: Every setting, in the order the settings page shows them.
DEFINITIONS = (
    Definition("retry_cooldown_seconds", "MONITOR_RETRY_COOLDOWN_SECONDS",
               "Seconds before the same delivery may be retried by hand again", 0, 86_400),
    Definition("retry_hourly_cap", "MONITOR_RETRY_HOURLY_CAP",
               "Retry actions one person may take per hour (a bulk action counts once; 0 = no cap)", 0, 100_000),
    Definition("refresh_seconds", "MONITOR_REFRESH_SECONDS",
               "Seconds between auto-refreshes of the monitor and the overview", 5, 3_600),
)
_BY_KEY = {d.key: d for d in DEFINITIONS}


def get_setting(key):
    """Return the current value of a setting."""
    definition = _BY_KEY[key]
    row = db.session.get(Setting, key)
    return row.value if row is not None else current_app.config[definition.config_key]


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
    try:
        value = int(str(raw_value).strip())
    except ValueError:
        raise InvalidInput(f"{definition.label}: enter a whole number", field=key) from None
    if not definition.low <= value <= definition.high:
        raise InvalidInput(f"{definition.label}: must be from {definition.low} to {definition.high}", field=key)
    before = get_setting(key)
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value, row.updated_by = value, actor.name
    db.session.add(row)
    record(actor, "setting.update", f"{key}: {before} -> {value}", target_type="setting", target_ids=[key],
           before={key: before}, after={key: value})
    db.session.commit()
    return value
