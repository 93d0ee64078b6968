"""Text Hookyard stores and shows: no NUL byte (PostgreSQL cannot store one in text), no other control
character (they hide in pages, logs and header values) and no lone surrogate (a JSON string may escape one;
no UTF-8 database can store it). Tabs and line breaks are allowed where a person types prose (descriptions,
notes); one-line values (names, header values, search terms) refuse them too.

Two levels use these rules: the request guard refuses C0 control characters in any address, query or form
(has_control); every service that stores free text refuses C1 control characters and lone surrogates too
(is_clean_text), as the API's body patterns say.
"""

import re

from flask_babel import lazy_gettext as _l

from app.errors import InvalidInput

#: Control characters refused in any request: everything below space and DEL, except tab, LF and CR; and
#: the set one-line values refuse, which adds tab, LF and CR.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL_OR_LINE_BREAK = r"\x00-\x1f\x7f"
#: What stored text refuses besides: the C1 control characters (U+0080 to U+009F).
_C1 = r"\x80-\x9f"
CONTROL = re.compile(f"[{_CONTROL}]")
CONTROL_OR_LINE_BREAK = re.compile(f"[{_CONTROL_OR_LINE_BREAK}]")
_UNSTORABLE_PROSE = re.compile(f"[{_CONTROL}{_C1}\\ud800-\\udfff]")
_UNSTORABLE_ONE_LINE = re.compile(f"[{_CONTROL_OR_LINE_BREAK}{_C1}\\ud800-\\udfff]")
#: The request guard's two rules as JSON-schema patterns (the API's path and query parameters).
ONE_LINE_PATTERN = f"^[^{_CONTROL_OR_LINE_BREAK}]*$"
PROSE_PATTERN = f"^[^{_CONTROL}]*$"
#: An HTTP header name (RFC 9110 token): an endpoint's custom header, the header a Zoho source's token comes in.
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
#: Deepest nesting of objects and arrays a JSON document Hookyard takes may have (an outbound payload, an inbound
#: body); JSON parsers elsewhere stop near 1,000.
MAX_JSON_DEPTH = 64
#: Stored text as JSON-schema patterns (request bodies; see app.api.schemas). A lone surrogate matches no
#: pattern at all, so the API refuses it too.
TEXT_LINE_PATTERN = f"^[^{_CONTROL_OR_LINE_BREAK}{_C1}]*$"
TEXT_PROSE_PATTERN = f"^[^{_CONTROL}{_C1}]*$"
#: Longest note a person may leave when settling something by hand (resolving, marking processed).
MAX_NOTE_LENGTH = 1000
#: A note: prose with at least one character that is not white space.
NOTE_PATTERN = f"^[^{_CONTROL}{_C1}]*[^{_CONTROL}{_C1}\\s][^{_CONTROL}{_C1}]*$"


def has_control(value, *, one_line=False):
    """Say whether value (a str) holds a control character no request may carry."""
    return bool((CONTROL_OR_LINE_BREAK if one_line else CONTROL).search(value))


def json_depth(value):
    """Return the nesting depth of a parsed JSON value (a scalar is 0), without recursion; counting stops just past
    MAX_JSON_DEPTH."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in item)
    return deepest
def is_clean_text(value, *, one_line=True):
    """Say whether value (a str) is text any database stores and any page shows: valid Unicode and no control
    character (prose, one_line=False, may hold tabs and line breaks)."""
    return not (_UNSTORABLE_ONE_LINE if one_line else _UNSTORABLE_PROSE).search(value)


def check_text(value, field, limit, *, one_line=True):
    """Return free text (a name, description, reason or note) stripped, None when blank; refuse non-text,
    text over limit characters and text is_clean_text refuses, naming field."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or not is_clean_text(value, one_line=one_line):
        raise InvalidInput(_l("%(field)s must be text of at most %(limit)s characters without control characters",
                              field=field, limit=limit),
                           field=field)
    return value.strip() or None


def check_note(value, what):
    """Return a required note stripped: 1 to MAX_NOTE_LENGTH characters of clean prose; else raise InvalidInput
    saying what needs it (e.g. "a resolution")."""
    note = value.strip() if isinstance(value, str) else ""
    if not note or len(value) > MAX_NOTE_LENGTH:
        raise InvalidInput(_l("%(what)s needs a note of 1 to %(max_note_length)s characters",
                              what=what, max_note_length=MAX_NOTE_LENGTH), field="note")
    if not is_clean_text(value, one_line=False):
        raise InvalidInput(_l("the note must be text without control characters"), field="note")
    return note
