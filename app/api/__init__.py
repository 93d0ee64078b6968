"""The producer API blueprint."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import delivery_actions, endpoint_routes, errors, openapi, routes  # noqa: E402,F401  registers the views on bp

errors.register(bp)
