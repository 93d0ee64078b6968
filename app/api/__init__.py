"""The producer API blueprint."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import (  # noqa: E402,F401  registers the views on bp
    delivery_actions,
    endpoint_routes,
    errors,
    openapi,
    routes,
    system_routes,
)

errors.register(bp)
