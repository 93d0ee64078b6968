"""A handle of an inbound event (Shopify's order name) renders as the reference link admins defined for its topic."""

from sqlalchemy import select

from app.audit import CLI
from app.extensions import db
from app.models import InboundEvent
from app.staff.reference_links import add_reference_link
from tests.inbound.conftest import SHOPIFY_SECRET
from tests.inbound.signing import body_of, shopify


def test_an_inbound_handle_renders_as_its_reference_link(app, client, make_source, staff):
    make_source("shop")
    with app.app_context():
        add_reference_link("Shopify", event_type_pattern="orders/*", value_pattern="#{n}",
                           url_template="https://admin.shopify.com/store/x/orders/{n}", actor=CLI)
        add_reference_link("Elsewhere", event_type_pattern="refunds/*", value_pattern="{v}",
                           url_template="https://other.example/{value}", actor=CLI)
    body = body_of({"id": 5550001, "name": "#1001"})
    assert client.post("/inbound/shop", data=body, headers=shopify(SHOPIFY_SECRET, body)).status_code == 200
    with app.app_context():
        event_id = db.session.scalar(select(InboundEvent.id))
    staff("viewer")
    link = 'href="https://admin.shopify.com/store/x/orders/1001"'
    for url in ("/admin/inbound/", f"/admin/inbound/event/{event_id}"):
        html = client.get(url).get_data(as_text=True)
        assert link in html and 'rel="noopener noreferrer"' in html, url
        assert "other.example" not in html
