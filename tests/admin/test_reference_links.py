"""Reference links: admins define URL templates; the monitor, View log and message pages render matching references
and handles as links (http/https only, escaped, rel=noopener); a bad template is refused when saved."""

import pytest
from sqlalchemy import select

from app.audit import CLI
from app.extensions import db
from app.models import AuditEntry, ReferenceLink
from app.staff.reference_links import add_reference_link
from tests.support.factories import send

SHOPIFY = "https://admin.shopify.com/store/x/orders/{n}"


def add(app, name="Shopify", **fields):
    with app.app_context():
        add_reference_link(name, **{"value_pattern": "#{n}", "url_template": SHOPIFY, **fields}, actor=CLI)


def test_an_admin_adds_and_removes_a_reference_link_each_audited(app, client, staff):
    token = staff("admin")
    form = {"csrf_token": token, "name": "Shopify", "value_pattern": "#{n}", "url_template": SHOPIFY,
            "event_type_pattern": "order.*"}
    assert client.post("/admin/reference-links/", data=form).status_code == 302
    page = client.get("/admin/reference-links/").get_data(as_text=True)
    assert SHOPIFY in page and "order.*" in page
    with app.app_context():
        link_id = db.session.scalar(select(ReferenceLink.id))
    assert client.post(f"/admin/reference-links/{link_id}/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.query(ReferenceLink).count() == 0
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "reference_link")
                                  .order_by(AuditEntry.id)).all() == ["reference_link.create", "reference_link.delete"]


@pytest.mark.parametrize(("fields", "says"), [
    ({"url_template": "javascript:alert(1)//{n}"}, "javascript:, data: and other schemes are refused"),
    ({"url_template": "data:text/html,{n}"}, "other schemes are refused"),
    ({"url_template": "https://{n}.evil.example/"}, "the host must be fixed"),
    ({"url_template": "https://shop.example/{m}"}, "unknown or unbalanced: m"),
    ({"url_template": "https://shop.example/{n"}, "a stray brace"),
    ({"url_template": "https://shop.example/ {n}"}, "without spaces"),
    ({"value_pattern": "#{n:[0-9]{4}"}, "never closed"),
    ({"value_pattern": "#{n:(}"}, "not a valid regular expression"),
    ({"value_pattern": "", "event_type_pattern": ""}, "an event type pattern, a value pattern or both"),
])
def test_a_bad_reference_link_is_refused_with_a_clear_message_and_nothing_saved(app, client, staff, fields, says):
    token = staff("admin")
    form = {"csrf_token": token, "name": "Shopify", "value_pattern": "#{n}", "url_template": SHOPIFY, **fields}
    response = client.post("/admin/reference-links/", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and says in html and "nothing was changed" in html
    with app.app_context():
        assert db.session.query(ReferenceLink).count() == 0
        assert db.session.query(AuditEntry).filter(AuditEntry.target_type == "reference_link").count() == 0


def test_only_admins_reach_reference_links(client, staff):
    token = staff("operator")
    assert client.get("/admin/reference-links/").status_code == 403
    assert client.post("/admin/reference-links/", data={"csrf_token": token, "name": "x",
                                                         "url_template": SHOPIFY}).status_code == 403


def test_references_and_handles_render_as_escaped_links_on_the_monitor_log_and_message_pages(app, client, staff,
                                                                                                make_endpoint):
    make_endpoint()
    add(app, event_type_pattern="order.*")
    add(app, "Warehouse", value_pattern="{code:[A-Z]{4}[0-9]{4}}", url_template="https://wms.example/qr?code={code}")
    message_id, (delivery_id,) = send(app, "order.created", {"order": 1001}, reference="#1001",
                                      tags=["ABCD1234", "not-a-qr"])
    _, (odd_id,) = send(app, "order.created", {}, reference='#1"><b>x')
    _, (other_id,) = send(app, "invoice.paid", {}, reference="#1002")  # outside the Shopify link's event types
    staff("viewer")
    order_link = ('<a href="https://admin.shopify.com/store/x/orders/1001" class="hy-ref-link small" '
                  'target="_blank" rel="noopener noreferrer" data-reference-link title="Open in Shopify">')
    qr_link = 'href="https://wms.example/qr?code=ABCD1234"'
    for url in ("/admin/", f"/admin/log/{delivery_id}", f"/admin/messages/details/?id={message_id}"):
        html = client.get(url).get_data(as_text=True)
        assert order_link in html and qr_link in html, url
        assert "code=not-a-qr" not in html
    odd = client.get(f"/admin/log/{odd_id}").get_data(as_text=True)
    assert 'href="https://admin.shopify.com/store/x/orders/1%22%3E%3Cb%3Ex"' in odd and '"><b>x' not in odd
    assert "data-reference-link" not in client.get(f"/admin/log/{other_id}").get_data(as_text=True)
