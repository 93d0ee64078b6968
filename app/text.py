"""Text Hookyard stores and shows: no NUL byte (PostgreSQL cannot store one in text) and no other control
character (they hide in pages, logs and header values). Tabs and line breaks are allowed where a person
types prose (descriptions); one-line values (names, header values, search terms) refuse them too."""

import re

#: Control characters refused in any stored text: everything below space and DEL, except tab, LF and CR.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The same rule for one-line values, which also refuse tab, LF and CR.
CONTROL_OR_LINE_BREAK = re.compile(r"[\x00-\x1f\x7f]")
#: JSON-schema pattern of a one-line value (the API documents and checks it; see app.api.schemas).
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def has_control(value, *, one_line=False):
    """Say whether value (a str) holds a character Hookyard refuses to store."""
    return bool((CONTROL_OR_LINE_BREAK if one_line else CONTROL).search(value))
