"""Every API error is JSON: {"error": "...", "field": "..."} with the status that fits (HTTP and database errors
as app.json_errors answers them)."""

from pydantic import ValidationError

from app import errors as domain
from app import json_errors
from app.api.schemas import PATTERN_MESSAGES
from app.json_errors import error_response

#: HTTP status for each domain error.
STATUS_BY_ERROR = {
    domain.InvalidInput: 422,
    domain.BlockedAddress: 422,
    domain.NotFound: 404,
    domain.IllegalTransition: 409,
    domain.PayloadTooLarge: 413,
    domain.SecretUnavailable: 500,
    domain.LimitReached: 429,
}


class ApiError(Exception):
    """Raised by a view to answer with a JSON error."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def describe(exc):
    """Return (status, message, field) for an error a request may meet: ApiError, a domain error or a
    pydantic ValidationError."""
    if isinstance(exc, ApiError):
        return exc.status, exc.message, exc.field
    if isinstance(exc, domain.HookyardError):
        return STATUS_BY_ERROR.get(type(exc), 400), exc.message, exc.field
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or None  # e.g. tags.0
    message = first["msg"]
    if first["type"] == "string_pattern_mismatch":
        message = PATTERN_MESSAGES.get(first["ctx"]["pattern"], "is not in the accepted form")
    elif first["type"] == "string_unicode":
        message = "must be valid Unicode text (it holds a lone surrogate)"
    field = str(first["loc"][0]) if first["loc"] else None  # the field as the request names it: tags
    return 422, f"{where}: {message}" if where else message, field


def item_error(exc):
    """One item of a batch that was refused, as the batch answer lists it: {"error", "field", "status"}."""
    status, message, field = describe(exc)
    return {"error": message, "field": field, "status": status}


def register(bp):
    """Attach the JSON error handlers to the API blueprint."""

    @bp.errorhandler(ApiError)
    @bp.errorhandler(domain.HookyardError)
    @bp.errorhandler(ValidationError)
    def _refused(exc):
        return error_response(*describe(exc))

    json_errors.register(bp)
