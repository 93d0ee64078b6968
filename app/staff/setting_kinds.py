"""What one editable setting is (Definition) and how each kind of value is parsed and checked: a whole number or a
decimal number in a range, a percentage, one of a few choices, a list of email addresses, a URL, a retry schedule or
a line of text. The ranges come from app.config's rows, so the page and the environment accept the same values.
"""

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from app.config import SETTINGS, parse_schedule
from app.errors import InvalidInput
from app.text import is_clean_text

#: A plausible email address (the SMTP server has the last word).
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
#: Most steps a retry schedule set on the page may have.
MAX_SCHEDULE_STEPS = 50
#: Longest line of text a text setting takes (the shop's name).
MAX_TEXT_LENGTH = 80
#: app.config's row of each config key: where a setting's range comes from.
_ENV_ROWS = {row.config_key: row for row in SETTINGS}


@dataclass(frozen=True)
class Definition:
    key: str
    #: The app.config key that holds the default (the environment's value).
    config_key: str
    #: What the page calls it, translatable (a lazy_gettext string); the key names it in the audit log.
    label: str
    low: float = 0
    high: float = 0
    #: int, number, percent, choice, emails, url, schedule or text.
    kind: str = "int"
    choices: tuple = ()
    #: Shown beside the field, e.g. the compliance warning of the 30-day retention.
    help: str = ""
    #: The heading the settings page shows it under.
    section: str = ""

    def parse(self, raw):
        """Return the value raw stands for, or raise InvalidInput saying what is wrong."""
        text = str(raw).strip()
        return _PARSERS[self.kind](self, text)

    def display(self, value):
        """The value as the page's field shows it."""
        if self.kind == "emails":
            return ", ".join(value or [])
        if self.kind in ("percent", "number"):
            return figure(value)
        if self.kind == "schedule":
            return ", ".join(figure(delay) for delay in value or [])
        return "" if value is None else str(value)

    @property
    def range_text(self):
        """The accepted range, e.g. "from 1 to 100000" (translatable: str() it in the page's language)."""
        return _l("from %(low)s to %(high)s", low=figure(self.low), high=figure(self.high))

    @property
    def in_seconds(self):
        """Say whether the value is a number of seconds (the page says it as a duration too)."""
        return self.kind in ("int", "number") and self.key.endswith("_seconds")


def ranged(key, config_key, label, kind="int", **fields):
    """A Definition of a number whose range is app.config's for config_key."""
    row = _ENV_ROWS[config_key]
    return Definition(key, config_key, label, low=row.low, high=row.high, kind=kind, **fields)


def figure(value):
    """A number as a person reads it: 31536000, 0.5 (never 3.1536e+07)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _out_of_range(definition, value):
    return InvalidInput(_l("%(label)s: must be %(range_text)s",
                           label=definition.label, range_text=definition.range_text), field=definition.key)


def _int(definition, text):
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(_l("%(label)s: enter a whole number", label=definition.label),
                           field=definition.key) from None
    if not definition.low <= value <= definition.high:
        raise _out_of_range(definition, value)
    return value


def _number(definition, text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(_l("%(label)s: enter a number such as 60 or 0.5", label=definition.label),
                           field=definition.key)
    if not definition.low <= value <= definition.high:
        raise _out_of_range(definition, value)
    return value


def _percent(definition, text):
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(_l("%(label)s: enter a percentage such as 90 or 99.5", label=definition.label),
                           field=definition.key)
    if not 0 <= value <= 100:
        raise InvalidInput(_l("%(label)s: must be from 0 to 100", label=definition.label), field=definition.key)
    return value


def _choice(definition, text):
    if text not in {str(c) for c in definition.choices}:
        *others, last = (str(c) for c in definition.choices)
        raise InvalidInput(_l("%(label)s: choose %(options)s or %(last)s", label=definition.label,
                              options=", ".join(others), last=last), field=definition.key)
    return type(definition.choices[0])(text)


def _emails(definition, text):
    emails = [part.strip() for part in re.split(r"[,;\s]+", text) if part.strip()]
    bad = [e for e in emails if not EMAIL.match(e)]
    if bad:
        raise InvalidInput(_l("%(label)s: not an email address: %(bad)s", label=definition.label, bad=', '.join(bad)),
                           field=definition.key)
    return emails


def _url(definition, text):
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(_l("%(label)s: enter an http:// or https:// URL", label=definition.label),
                           field=definition.key)
    return text


def _schedule(definition, text):
    """The same list of seconds WEBHOOK_RETRY_SCHEDULE takes (app.config.parse_schedule), never empty."""
    try:
        delays = parse_schedule(text) if text else None
    except ValueError:
        delays = None
    if not delays or len(delays) > MAX_SCHEDULE_STEPS:
        raise InvalidInput(_l("%(label)s: enter 1 to %(max_schedule_steps)s waits in seconds, comma-separated, such "
                              "as 5, 300, 1800", label=definition.label, max_schedule_steps=MAX_SCHEDULE_STEPS),
                           field=definition.key)
    return delays


def _text(definition, text):
    if len(text) > MAX_TEXT_LENGTH or not is_clean_text(text, one_line=True):
        raise InvalidInput(_l("%(label)s: at most %(max_text_length)s characters on one line",
                              label=definition.label, max_text_length=MAX_TEXT_LENGTH),
                           field=definition.key)
    return text


_PARSERS = {"int": _int, "number": _number, "percent": _percent, "choice": _choice, "emails": _emails, "url": _url,
            "schedule": _schedule, "text": _text}
