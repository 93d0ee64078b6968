"""Event types and endpoint filters: exact names and "order.*" wildcards.

Event types under FORWARDED ("inbound.") are reserved for events forwarded from inbound sources: no producer may
send one, and only an endpoint that names the namespace in its filter ("inbound.*", "inbound.shop.*" or an exact
type) receives them; "*", no filter or "order.*" do not."""

import re

from flask_babel import lazy_gettext as _l

from app.errors import InvalidInput

#: An event type: dot-separated segments of letters, digits, "_" and "-" (order.created).
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
#: A filter pattern: an event type, a prefix followed by ".*", or "*" alone.
PATTERN = re.compile(r"^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$")
#: The namespace of forwarded inbound events (app.inbound.forward): inbound.<source>.<topic>.
FORWARDED = "inbound"


def is_forwarded(event_type):
    """Say whether event_type (or a filter pattern) is in the forwarded namespace, in any letter case."""
    head = event_type.split(".", 1)[0]
    return head.lower() == FORWARDED


def check_event_type(event_type, *, forwarded=False):
    """Return event_type if it is a valid name; raise InvalidInput otherwise. Only forwarded (a forwarded inbound
    event, or a resend of one) may be in the forwarded namespace."""
    if not isinstance(event_type, str) or len(event_type) > 200 or not EVENT_TYPE.fullmatch(event_type):
        raise InvalidInput(
            _l("event_type must be dot-separated names of letters, digits, '_' or '-' (e.g. order.created)"),
            field="event_type",
        )
    if is_forwarded(event_type) and not forwarded:
        raise InvalidInput(_l("event_type must not start with %(forwarded)s.: that namespace holds the events "
                              "forwarded from inbound sources", forwarded=FORWARDED), field="event_type")
    return event_type


def check_patterns(patterns):
    """Return a cleaned list of filter patterns; raise InvalidInput on a malformed one."""
    if patterns is None:
        return None
    cleaned = []
    for pattern in patterns:
        if not isinstance(pattern, str) or len(pattern) > 200 or not PATTERN.fullmatch(pattern):
            raise InvalidInput(
                _l("event_types: %(pattern)s is not an event type, a 'prefix.*' wildcard or '*'",
                   pattern=repr(pattern)),
                field="event_types",
            )
        if pattern not in cleaned:
            cleaned.append(pattern)
    return cleaned


def matches(patterns, event_type):
    """Say whether an endpoint with these filter patterns receives event_type (a forwarded one only through a
    pattern naming the forwarded namespace)."""
    if is_forwarded(event_type):
        patterns = [pattern for pattern in patterns or () if is_forwarded(pattern)]
    elif not patterns:
        return True
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
