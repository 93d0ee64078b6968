"""Banners on every staff page: endpoints that are failing or disabled, so nobody misses one."""

from flask import url_for
from flask_login import current_user
from sqlalchemy import or_, select

from app.delivery.endpoints.figures import is_failing
from app.delivery.queries import pending_count
from app.extensions import db
from app.models import Endpoint, EndpointState


def staff_banners():
    """Return [{kind, level, text, url}] for each failing or disabled endpoint (signed-in staff only)."""
    if not current_user.is_authenticated:
        return []
    troubled = db.session.scalars(select(Endpoint).where(
        Endpoint.deleted_at.is_(None), or_(Endpoint.state == EndpointState.DISABLED, is_failing()),
    ).order_by(Endpoint.created_at)).all()
    return [_banner(endpoint) for endpoint in troubled]


def _banner(endpoint):
    label = endpoint.name or endpoint.url
    url = url_for("endpoints.manage", endpoint_id=endpoint.id)
    if endpoint.state is EndpointState.DISABLED:
        waiting = pending_count(endpoint.id)
        text = (f"Endpoint {label} is disabled ({endpoint.state_reason or 'no reason given'}); "
                f"{waiting} deliveries wait for it.")
        return {"kind": "endpoint-disabled", "level": "danger", "text": text, "url": url}
    since = endpoint.failing_since.strftime("%Y-%m-%d %H:%M UTC") if endpoint.failing_since else "recently"
    text = f"Endpoint {label} is failing: {endpoint.consecutive_failures} attempts in a row have failed since {since}."
    return {"kind": "endpoint-failing", "level": "warning", "text": text, "url": url}
