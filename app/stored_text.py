"""Sentences kept for later readers: a lazy message (lazy_gettext with named values) stored as its msgid and values
apart, so a page can show it again in the language of whoever reads it, long after it was written.

The stored form is JSON: {"msgid": "...", "values": {...}}, a value being plain text, a number, None, or another
stored message (a word of the sentence that is translated too, e.g. a state or a skip reason).
"""

import re

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

#: A named placeholder, which a message stored without values must not hold.
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


class NotAMessage(TypeError):
    """Raised when text to be stored for translation is a plain string instead of a lazy message."""


def _value(value):
    if isinstance(value, LazyString):
        return stored(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def stored(message):
    """Return the JSON form of a lazy message made by lazy_gettext with named values; NotAMessage for anything
    else (a plain or f-string cannot be shown again in another language)."""
    if not isinstance(message, LazyString) or message._func is not gettext or len(message._args) != 1:
        raise NotAMessage(f"{message!r} is not a lazy message: write _l('... %(name)s ...', name=value)")
    values = {name: _value(value) for name, value in message._kwargs.items()}
    return {"msgid": message._args[0], "values": values} if values else {"msgid": message._args[0]}


def _shown(value):
    return shown(value) if isinstance(value, dict) else value


def shown(form):
    """Return a stored message as text in the current page's language (a msgid the catalog lacks reads as
    written, in English)."""
    values = {name: _shown(value) for name, value in (form.get("values") or {}).items()}
    text = gettext(form["msgid"])
    if not values and _PLACEHOLDER.search(text):
        raise KeyError(_PLACEHOLDER.search(text).group())  # written without its values: shown_or falls back
    return text % values if values else text  # as lazy_gettext does: a message without values keeps its %


def shown_or(form, fallback):
    """Return shown(form), or fallback (the English text stored beside it) for a row written before forms were
    kept or a form that no longer fits its translation."""
    if not form:
        return fallback
    try:
        return shown(form)
    except (KeyError, TypeError, ValueError):
        return fallback


def joined(parts):
    """Lazy messages (or plain texts) as one lazy message, "; " between them, each part still translatable."""
    text = parts[-1]
    for part in reversed(parts[:-1]):
        text = _l("%(first)s; %(rest)s", first=part, rest=text)
    return text
