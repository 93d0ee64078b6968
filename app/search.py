"""Search helpers both pipelines' read sides use: handles (the short strings a message or an inbound event is found
by, lower-cased so a case-insensitive prefix search is one indexed range scan), an indexed prefix match, and the
days and moments filters take.

A value is stored in the forms people type: without a leading "#" (``#1005`` -> ``1005``) and, for a qualified id,
its last part (``gid://shopify/Order/5123`` -> ``5123``, ``shopify:5123`` -> ``5123``).
"""

import dataclasses
import re
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l

from app.errors import InvalidInput
from app.extensions import db

#: Longest handle kept (the column's size); longer values are cut, which a prefix search still finds.
MAX_LENGTH = 200
#: The last part of a qualified id: after the final "/" or ":".
_LAST_PART = re.compile(r"[/:]([^/:]+)$")
#: A day (2026-11-23) and a moment (2026-11-23T10:00, seconds, fraction and UTC offset optional; UTC without one),
#: as filters and the API take them.
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                    r"(Z|[+-][0-9]{2}:[0-9]{2})?$")
#: The days a filter may name: a later "to" day would overflow once a day is added to make it inclusive.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)
#: Longest search term, endpoint id or event type a filter takes (ids are 32, references and tags 200).
MAX_TERM = 200


def normalise(term):
    """Return a typed search term as handles are stored: trimmed, lower-cased, without a leading "#"."""
    term = (term or "").strip().lower()
    return term[1:].strip() if term.startswith("#") and len(term) > 1 else term


def variants(value):
    """Return the handles one value is found by (a set of lower-cased strings)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return set()
    text = str(value).strip().lower()[:MAX_LENGTH]
    if not text:
        return set()
    found = {text, normalise(text)}
    if match := _LAST_PART.search(text):
        found.add(match.group(1))
    return {v for v in found if v}


def payload_values(payload, paths):
    """Return the values at each dotted path of a JSON object (missing paths are skipped)."""
    values = []
    for path in paths:
        node = payload
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            values.append(node)
    return values


def starts_with(column, term):
    """Return the condition "column starts with term",
    in a form that uses an index on SQLite (GLOB) and PostgreSQL (LIKE)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return column.op("GLOB")(re.sub(r"([*?\[])", r"[\1]", term) + "*")
    return column.like(re.sub(r"([\\%_])", r"\\\1", term) + "%", escape="\\")


def pattern_condition(column, pattern, wildcard):
    """SQL: column equals pattern, or starts with what precedes its last character when pattern ends in wildcard
    ("order.*" with ".*", "orders/*" with "*"); None for "*" (everything)."""
    if pattern == "*":
        return None
    if pattern.endswith(wildcard):
        return starts_with(column, pattern[:-1])
    return column == pattern


def parse_flag(value, field):
    """Parse a filter's 1 or 0 (true/false, yes/no, on/off)."""
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(_l("%(field)s must be 1 or 0", field=field), field=field)


def parse_day(value, field):
    """Parse a day like 2026-11-23, from FIRST_DAY to LAST_DAY."""
    try:
        day = date.fromisoformat(value) if DAY.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(_l("%(field)s must be a date like 2026-11-23, from %(first_day)s to %(last_day)s",
                              field=field, first_day=FIRST_DAY, last_day=LAST_DAY), field=field)
    return day


def parse_moment(value, field):
    """Parse an ISO 8601 time (2026-11-23T10:00, with or without an offset; UTC when none) into UTC."""
    try:
        if not MOMENT.fullmatch(value.strip()):
            raise ValueError(value)
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across midnight by its offset
        raise InvalidInput(_l("%(field)s must be a time like 2026-11-23T10:00:00Z", field=field), field=field) from None


class ListFilter:
    """What the monitor's and the Inbound page's filters (frozen dataclasses) share: the query-string arguments
    they read, and a copy with some changed."""

    @classmethod
    def field_names(cls):
        """The query-string arguments a filter reads."""
        return [f.name for f in dataclasses.fields(cls)]

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)
