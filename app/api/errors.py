"""Every API error is JSON: {"error": "...", "field": "..."} with the status that fits."""

from flask import jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app import errors as domain

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
    field = ".".join(str(part) for part in first["loc"]) or None
    return 422, f"{field}: {first['msg']}" if field else first["msg"], field


def item_error(exc):
    """One item of a batch that was refused, as the batch answer lists it: {"error", "field", "status"}."""
    status, message, field = describe(exc)
    return {"error": message, "field": field, "status": status}


def error_response(status, message, field=None):
    """Return a JSON error response."""
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def register(bp):
    """Attach the JSON error handlers to the API blueprint."""

    @bp.errorhandler(ApiError)
    @bp.errorhandler(domain.HookyardError)
    @bp.errorhandler(ValidationError)
    def _refused(exc):
        return error_response(*describe(exc))

    @bp.errorhandler(HTTPException)
    def _http(exc):
        return error_response(exc.code or 500, exc.description or exc.name)
