"""Event types and endpoint filters: exact names and "order.*" wildcards."""

import re

from app.errors import InvalidInput

#: An event type: dot-separated segments of letters, digits, "_" and "-" (order.created).
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
#: A filter pattern: an event type, a prefix followed by ".*", or "*" alone.
PATTERN = re.compile(r"^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$")


def check_event_type(event_type):
    """Return event_type if it is a valid name; raise InvalidInput otherwise."""
    if not isinstance(event_type, str) or len(event_type) > 200 or not EVENT_TYPE.fullmatch(event_type):
        raise InvalidInput(
            "event_type must be dot-separated names of letters, digits, '_' or '-' (e.g. order.created)",
            field="event_type",
        )
    return event_type


def check_patterns(patterns):
    """Return a cleaned list of filter patterns; raise InvalidInput on a malformed one."""
    if patterns is None:
        return None
    cleaned = []
    for pattern in patterns:
        if not isinstance(pattern, str) or len(pattern) > 200 or not PATTERN.fullmatch(pattern):
            raise InvalidInput(
                f"event_types: {pattern!r} is not an event type, a 'prefix.*' wildcard or '*'",
                field="event_types",
            )
        if pattern not in cleaned:
            cleaned.append(pattern)
    return cleaned


def matches(patterns, event_type):
    """Say whether an endpoint with these filter patterns receives event_type."""
    if not patterns:
        return True
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
