"""Public documentation partners read without signing in: the event catalog at /docs/events (every event type, what
it means, its JSON Schema and an example; those in use first), as hosted webhook services publish theirs. Read
only: nothing on it changes anything, and it shows nothing but what admins wrote into the catalog."""

from flask import Blueprint, render_template

from app.delivery import catalog

bp = Blueprint("docs", __name__, url_prefix="/docs")


@bp.get("/events")
def events():
    """Show the event catalog to anyone."""
    response = render_template("docs/events.html", event_types=catalog.list_event_types())
    return response, 200, {"Cache-Control": "public, max-age=60"}
