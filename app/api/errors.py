"""Every API error is JSON: {"error": "...", "field": "..."} with the status that fits."""

from flask import jsonify
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app import errors as domain
from app import outages

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
        from app.api.schemas import PATTERN_MESSAGES  # late: the schemas import the domain, which imports this

        message = PATTERN_MESSAGES.get(first["ctx"]["pattern"], "is not in the accepted form")
    elif first["type"] == "string_unicode":
        message = "must be valid Unicode text (it holds a lone surrogate)"
    field = str(first["loc"][0]) if first["loc"] else None  # the field as the request names it: tags
    return 422, f"{where}: {message}" if where else message, field


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


def http_error(exc):
    """A werkzeug HTTPException (404, 405, 413, 429...) as JSON, keeping its headers (Allow, Retry-After)."""
    response, status = error_response(exc.code or 500, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def database_error(exc):
    """503 with Retry-After when the database is unavailable; any other database error is raised again (500)."""
    if not outages.database_failed(exc):
        raise exc
    response, status = error_response(503, "the database is unavailable; try again shortly")
    response.headers["Retry-After"] = str(outages.RETRY_AFTER_SECONDS)
    return response, status


def register(bp):
    """Attach the JSON error handlers to the API blueprint."""

    @bp.errorhandler(ApiError)
    @bp.errorhandler(domain.HookyardError)
    @bp.errorhandler(ValidationError)
    def _refused(exc):
        return error_response(*describe(exc))

    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(SQLAlchemyError, database_error)
