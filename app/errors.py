"""Errors Hookyard raises on purpose; the API, the staff pages and the CLI map them to answers.

A message may be a lazy translatable string (`lazy_gettext` with named placeholders): `message` is always plain
English text, what the API's JSON, the audit log, attempt records, logs and the CLI say; `localized` is the same
reason in the language of the page being answered (the staff console's flashes and form errors).
"""

from flask_babel import force_locale


def english(text):
    """Return text (a str or a lazy translatable string) as plain English text."""
    if isinstance(text, str):
        return text
    with force_locale("en"):
        return str(text)


class HookyardError(Exception):
    """Base class for every error Hookyard raises on purpose."""

    def __init__(self, message, *, field=None):
        self.message = english(message)
        super().__init__(self.message)
        #: The message as raised, for a reason that quotes another (it stays translatable).
        self.text = message
        self.field = field

    @property
    def localized(self):
        """The message in the current page's language, as plain text (safe to flash or put in JSON)."""
        return str(self.text)


class InvalidInput(HookyardError):
    """Raised when input is well-formed but not acceptable (bad URL, unknown option)."""


class NotFound(HookyardError):
    """Raised when an id names no row."""


class IllegalTransition(HookyardError):
    """Raised when a state change is not allowed from the row's current state."""


class PayloadTooLarge(HookyardError):
    """Raised when a payload is over WEBHOOK_MAX_PAYLOAD_BYTES."""


class BlockedAddress(InvalidInput):
    """Raised when a URL resolves only to addresses the outbound policy refuses."""


class SecretUnavailable(HookyardError):
    """Raised when an endpoint secret cannot be decrypted with the configured keys."""


class LimitReached(HookyardError):
    """Raised when a person or an API key has used up an allowance (e.g. retry actions per hour)."""


class InboundRejected(HookyardError):
    """Raised when an inbound webhook request is refused: reason is missing_signature, bad_signature, stale,
    malformed, too_deep or unknown_shop, and status the HTTP status to answer with."""

    def __init__(self, reason, status, message):
        super().__init__(message)
        self.reason, self.status = reason, status
