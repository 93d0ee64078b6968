"""Partners of the portal: endpoints, deliveries and a link's browser session."""

import re
from types import SimpleNamespace

import pytest

from app.audit import CLI
from app.extensions import db
from app.models import AuditEntry
from app.portal.links import create_link
from tests.support.factories import send
from tests.support.staff import csrf_from


def open_portal(client, url_or_token):
    """Open a link as a browser does (the token from the URL's fragment, posted by the page); return the session's
    CSRF token, or None when the link was refused."""
    token = url_or_token.rpartition("#")[2]
    page = client.get("/portal/enter").get_data(as_text=True)
    answer = client.post("/portal/enter", data={"token": token, "csrf_token": csrf_from(page)})
    if answer.status_code != 302:
        return None
    return csrf_from(client.get("/portal/").get_data(as_text=True))


def make_link(app, endpoint_ids, capabilities=("replay", "manage", "secret"), expires_in=3600):
    with app.app_context():
        row, token = create_link(list(endpoint_ids), list(capabilities), expires_in, actor=CLI)
        return SimpleNamespace(id=row.id, token=token)


def audit_actions(app):
    with app.app_context():
        return [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]


@pytest.fixture
def partners(app, make_endpoint):
    """Two partners' endpoints, each with a delivery of order #1005, and the first partner's link (all
    capabilities) opened in client."""
    mine = make_endpoint(event_types=["order.*"])
    theirs = make_endpoint(event_types=["order.*"])
    _, delivery_ids = send(app, "order.created", {"order": 1005}, reference="#1005")
    _, other_ids = send(app, "order.updated", {"order": 2000}, reference="#2000")
    with app.app_context():
        from app.models import Delivery

        rows = db.session.query(Delivery).order_by(Delivery.id).all()
        by_endpoint = {d.id: d.endpoint_id for d in rows}
        their_messages = [d.message_id for d in rows if d.endpoint_id == theirs.id]
    return SimpleNamespace(
        mine=mine, theirs=theirs, their_messages=their_messages,
        my_deliveries=[d for d in delivery_ids + other_ids if by_endpoint[d] == mine.id],
        their_deliveries=[d for d in delivery_ids + other_ids if by_endpoint[d] == theirs.id],
    )


@pytest.fixture
def portal(app, client, partners):
    """The first partner's link with every capability, opened in client; its CSRF token in .csrf."""
    link = make_link(app, [partners.mine.id])
    link.csrf = open_portal(client, link.token)
    assert link.csrf
    return link


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))
