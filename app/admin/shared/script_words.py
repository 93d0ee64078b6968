"""The words hookyard.js shows, in the page's language: the base template hands them to the script in a <meta>
(no inline script: the CSP refuses one). Keys are the English words; {n} and {id} are filled in by the script."""

from flask_babel import lazy_gettext as _l

#: English key -> translation, for every text hookyard.js writes on a page.
SCRIPT_WORDS = {
    "Copied": _l("Copied"),
    "The payload must be a JSON object.": _l("The payload must be a JSON object."),
    "Not valid JSON: ": _l("Not valid JSON: "),
    "Valid JSON.": _l("Valid JSON."),
    "Resume auto-refresh": _l("Resume auto-refresh"),
    "Pause auto-refresh": _l("Pause auto-refresh"),
    "Auto-refresh paused": _l("Auto-refresh paused"),
    "Auto-refresh waits while rows are selected": _l("Auto-refresh waits while rows are selected"),
    "Refreshing in {n} s": _l("Refreshing in {n} s"),
    "Updated {time}": _l("Updated {time}"),
    "{n} selected": _l("{n} selected"),
    "Select rows for bulk actions": _l("Select rows for bulk actions"),
    "Retry delivery {id} now?": _l("Retry delivery {id} now?"),
}


def script_words():
    """The script's words as a dict for the page's language."""
    return {key: str(value) for key, value in SCRIPT_WORDS.items()}
