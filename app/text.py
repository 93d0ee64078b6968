"""Text Hookyard stores and shows: no NUL byte (PostgreSQL cannot store one in text) and no other control
character (they hide in pages, logs and header values). Tabs and line breaks are allowed where a person
types prose (descriptions); one-line values (names, header values, search terms) refuse them too."""

import re

#: Control characters refused in any stored text: everything below space and DEL, except tab, LF and CR; and
#: the set one-line values refuse, which adds tab, LF and CR.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL_OR_LINE_BREAK = r"\x00-\x1f\x7f"
CONTROL = re.compile(f"[{_CONTROL}]")
CONTROL_OR_LINE_BREAK = re.compile(f"[{_CONTROL_OR_LINE_BREAK}]")
#: The two rules as JSON-schema patterns (the API documents and checks them; see app.api.schemas).
ONE_LINE_PATTERN = f"^[^{_CONTROL_OR_LINE_BREAK}]*$"
PROSE_PATTERN = f"^[^{_CONTROL}]*$"
#: Deepest nesting of objects and arrays a JSON document Hookyard takes may have (an outbound payload, an inbound
#: body); JSON parsers elsewhere stop near 1,000.
MAX_JSON_DEPTH = 64


def has_control(value, *, one_line=False):
    """Say whether value (a str) holds a character Hookyard refuses to store."""
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
