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


def error_response(status, message, field=None):
    """Return a JSON error response."""
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def register(bp):
    """Attach the JSON error handlers to the API blueprint."""

    @bp.errorhandler(ApiError)
    def _api_error(exc):
        return error_response(exc.status, exc.message, exc.field)

    @bp.errorhandler(domain.HookyardError)
    def _domain_error(exc):
        return error_response(STATUS_BY_ERROR.get(type(exc), 400), exc.message, exc.field)

    @bp.errorhandler(ValidationError)
    def _invalid(exc):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return error_response(422, f"{field}: {first['msg']}" if field else first["msg"], field)

    @bp.errorhandler(HTTPException)
    def _http(exc):
        return error_response(exc.code or 500, exc.description or exc.name)
