"""Checks of typed input values (JSON from the API, forms made into values) that services share."""

import json

from flask_babel import lazy_gettext as _l

from app.errors import InvalidInput


def check_whole_number(value, field, low, high, *, nullable=False):
    """Return value if it is a whole number (not a bool) from low to high, or None when nullable; else InvalidInput."""
    if nullable and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        if nullable:
            raise InvalidInput(_l("%(field)s must be a whole number from %(low)s to %(high)s, or null",
                                  field=field, low=low, high=high), field=field)
        raise InvalidInput(_l("%(field)s must be a whole number from %(low)s to %(high)s",
                              field=field, low=low, high=high), field=field)
    return value


def check_choice(enum, value, message, field):
    """Return value (a member of enum or a member's value) as the member; else InvalidInput(message)."""
    try:
        return enum(value.value if isinstance(value, enum) else value)
    except (ValueError, TypeError):
        raise InvalidInput(message, field=field) from None


def check_flag(value, field):
    """Return value if it is true or false; else InvalidInput."""
    if not isinstance(value, bool):
        raise InvalidInput(_l("%(field)s must be true or false", field=field), field=field)
    return value


def parse_json_object(text, field, name):
    """Return the JSON object written in text; else InvalidInput saying what is wrong with it (name: what it is)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(_l("%(name)s is not valid JSON: %(exc)s", name=name, exc=exc), field=field) from None
    if not isinstance(value, dict):
        raise InvalidInput(_l("%(name)s must be a JSON object", name=name), field=field)
    return value
