"""Errors Hookyard raises on purpose; the API, the staff pages and the CLI map them to answers."""


class HookyardError(Exception):
    """Base class for every error Hookyard raises on purpose."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


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
