"""Errors raised by the delivery domain; callers map them to responses."""


class DeliveryError(Exception):
    """Base class for every error the delivery domain raises on purpose."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DeliveryError):
    """Raised when input is well-formed but not acceptable (bad URL, unknown option)."""


class NotFound(DeliveryError):
    """Raised when an id names no row."""


class IllegalTransition(DeliveryError):
    """Raised when a state change is not allowed from the row's current state."""


class PayloadTooLarge(DeliveryError):
    """Raised when a payload is over WEBHOOK_MAX_PAYLOAD_BYTES."""


class BlockedAddress(InvalidInput):
    """Raised when a URL resolves only to addresses the outbound policy refuses."""


class SecretUnavailable(DeliveryError):
    """Raised when an endpoint secret cannot be decrypted with the configured keys."""
