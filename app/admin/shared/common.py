"""Small helpers the hand-built staff pages share: query-string numbers, grace periods, uncached secret pages."""

import math

from flask import flash, make_response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.config import MAX_ROTATION_GRACE_SECONDS
from app.errors import InvalidInput

#: The longest grace period the rotation forms take, in hours (the service's limit: 7 days).
MAX_GRACE_HOURS = MAX_ROTATION_GRACE_SECONDS / 3600


def whole_number(name, default, choices=None):
    """Return the query string's positive whole number name (one of choices if given); flash and use default if not."""
    raw = request.args.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = None
    if value is None or value < 1 or (choices and value not in choices) or value > 1_000_000:
        flash(_("%(name)s ignored: %(value)s is not one of the choices.", name=name.replace("_", " ").capitalize(),
                value=repr(raw[:20])), "error")
        return default
    return value


def grace_hours(raw):
    """Return the typed grace period in hours (blank: 24); raise InvalidInput unless it is a number from 0 to
    MAX_GRACE_HOURS."""
    try:
        hours = float(raw) if raw and raw.strip() else 24.0
    except ValueError:
        hours = None
    if hours is None or not (math.isfinite(hours) and 0 <= hours <= MAX_GRACE_HOURS):
        raise InvalidInput(_l("Grace period: enter a number of hours from 0 to %(max_grace_hours)s",
                              max_grace_hours=format(MAX_GRACE_HOURS, "g")), field="grace_hours")
    return hours


def no_store(html):
    """Return a page showing a secret as a response no cache may keep."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response
