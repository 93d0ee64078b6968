"""The public receiving URL, POST /inbound/<source name>: no session, no CSRF, no sign-in; a request is authentic
only through its provider's signature (app.inbound.providers).

The body is read as raw bytes before anything parses it, and only up to INBOUND_MAX_BODY_BYTES: a larger
Content-Length is refused (413) without reading the body, and a chunked body is cut off as soon as it passes the
limit. Answers are JSON: 200 {"status": "accepted" | "duplicate", "id"}, else {"error", "reason"} with 400, 401,
404 or 413 (and 503 with Retry-After while the database is unavailable, so the provider retries).
"""

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from app import json_errors
from app.inbound.receive import receive, reject_too_large

bp = Blueprint("inbound", __name__)


@bp.post("/inbound/<name>")
def receive_webhook(name):
    """Verify, record and acknowledge one webhook sent to source name."""
    limit = current_app.config["INBOUND_MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return _respond(reject_too_large(name, request.headers, request.content_length, limit, request.remote_addr))
    # IMPORTANT: before the stream is first touched. A chunked body is read up to this bound and no further (one
    # byte past the limit tells it is too large: Werkzeug stops at the bound without saying so).
    request.max_content_length = limit + 1
    try:
        body = request.get_data(cache=True, parse_form_data=False)  # the exact bytes the provider signed
    except RequestEntityTooLarge:
        body = None
    if body is None or len(body) > limit:
        return _respond(reject_too_large(name, request.headers, None, limit, request.remote_addr))
    return _respond(receive(name, request.headers, body, request.remote_addr))


def _respond(answer):
    response = jsonify(answer.json)
    response.status_code = answer.status
    if answer.status == 413:
        response.headers["Connection"] = "close"  # the rest of the body is never read
    return response


json_errors.register(bp)
