"""JSON error answers for the machine-facing URLs (the producer API and the public receiving URL): an HTTP error
keeps its status and headers, an unavailable database is a 503 with Retry-After."""

from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app import outages


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
    """Answer a blueprint's HTTP and database errors as JSON."""
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(SQLAlchemyError, database_error)
