"""The producer API blueprint."""

from flask import Blueprint
from werkzeug.routing import BaseConverter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class IdConverter(BaseConverter):
    """A public id: a kind, an underscore, the rest (msg_01J...). So /messages/batch is never read as an id."""

    regex = r"[A-Za-z]+_[^/]+"


# IMPORTANT: before the views below are imported, so the converter exists when their rules are added.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))

from app.api import (  # noqa: E402,F401  registers the views on bp
    catalog_routes,
    delivery_actions,
    endpoint_routes,
    errors,
    inbound_routes,
    openapi,
    portal_routes,
    routes,
    system_routes,
)

errors.register(bp)
