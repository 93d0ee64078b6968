"""GET /livez for the platform's probe, /healthz and /readyz for monitoring, GET /metrics for Prometheus,
and the smoke test's echo route."""

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from app.auth.api_keys import allows, authenticate
from app.extensions import csrf
from app.ops.exposition import render
from app.ops.health import HEALTH, LIVENESS, READINESS, health
from app.ops.smoke import ECHO_PATH

bp = Blueprint("ops", __name__)

#: The content type of the Prometheus text format.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def _answer(parts):
    body, ok = health(parts)
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    if not ok:
        response.headers["Retry-After"] = "10"
    return response


@bp.post(ECHO_PATH)
@csrf.exempt
def smoke_echo():
    """Answer the smoke test's webhook with 200; it reads nothing and changes nothing."""
    response = jsonify({"received": True})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/livez")
def livez():
    """Answer 200 while this process reaches the database (the platform's probe), 503 when it does not."""
    return _answer(LIVENESS)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database and the broker answer, 503 naming the part that does not."""
    return _answer(HEALTH)


@bp.get("/readyz")
def readyz():
    """Answer 200 when the database, the broker, a worker and the broker's eviction policy are fine, else 503."""
    return _answer(READINESS)


def _authorised():
    """Return None when the request may scrape, else (status, message)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return 401, "send 'Authorization: Bearer <METRICS_TOKEN or an API key with the read scope>'"
    expected = current_app.config["METRICS_TOKEN"]
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return None
    key = authenticate(token)
    if key is None:
        return 403, "the token is neither METRICS_TOKEN nor a valid API key"
    if not allows(key, "read"):
        return 403, "this API key lacks the read scope that /metrics needs"
    return None


@bp.get("/metrics")
def metrics():
    """Serve every counter and gauge in the Prometheus text format (bearer token required)."""
    refused = _authorised()
    if refused is not None:
        status, message = refused
        return jsonify({"error": message}), status, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return Response(render(), mimetype=None, content_type=PROMETHEUS_TEXT)
