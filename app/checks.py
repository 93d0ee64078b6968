"""Checks of typed input values (JSON from the API, forms made into values) that services share."""

import json

from app.errors import InvalidInput


def check_whole_number(value, field, low, high, *, nullable=False):
    """Return value if it is a whole number (not a bool) from low to high, or None when nullable; else InvalidInput."""
    if nullable and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}{', or null' if nullable else ''}",
                           field=field)
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
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


def parse_json_object(text, field, name):
    """Return the JSON object written in text; else InvalidInput saying what is wrong with it (name: what it is)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}", field=field) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object", field=field)
    return value
