"""The event catalog's staff page (everyone reads, admins edit), the endpoint form's picker, the send-event form
held to the catalog, and the public page partners read without signing in."""

import json

from sqlalchemy import select

from app.audit import CLI
from app.delivery import catalog
from app.extensions import db
from app.models import AuditEntry, EventType, Message
from tests.support.staff import make_user, sign_in

QR_SCHEMA = {"type": "object", "required": ["qr_code"],
             "properties": {"qr_code": {"type": "string", "pattern": "^[A-Z]{4}[0-9]{4}$"}}}


def add(app, name="qr.scanned", **fields):
    with app.app_context():
        catalog.put_event_type(name, **{"schema": QR_SCHEMA, "description": "A QR code was scanned",
                                        "example": {"qr_code": "ABCD1234"}, **fields}, actor=CLI)


def test_everyone_reads_the_catalog_and_only_admins_change_it(app, client, staff):
    add(app)
    token = staff("operator")
    page = client.get("/admin/event-types/").get_data(as_text=True)
    assert "qr.scanned" in page and "A QR code was scanned" in page and "ABCD1234" in page
    assert 'id="catalog-form"' not in page
    form = {"csrf_token": token, "name": "qr.lost", "schema": "{}"}
    assert client.post("/admin/event-types/", data=form).status_code == 403
    assert client.post("/admin/event-types/qr.scanned/delete", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.scalars(select(EventType.name)).all() == ["qr.scanned"]


def test_an_admin_adds_changes_and_removes_an_event_type_each_audited(app, client, staff):
    token = staff("admin")
    form = {"csrf_token": token, "name": "qr.scanned", "description": "Scanned", "schema": json.dumps(QR_SCHEMA),
            "example": '{"qr_code": "ABCD1234"}'}
    assert client.post("/admin/event-types/", data=form).status_code == 302
    edit = client.get("/admin/event-types/?edit=qr.scanned").get_data(as_text=True)
    assert "Scanned</textarea>" in edit
    assert client.post("/admin/event-types/", data={**form, "deprecated": "on"}).status_code == 302
    assert client.post("/admin/event-types/qr.scanned/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.query(EventType).count() == 0
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "event_type")
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["event_type.create", "event_type.update", "event_type.delete"]
        assert db.session.scalars(select(AuditEntry.actor).where(AuditEntry.target_type == "event_type")).first() \
            == "admin@example.com"


def test_a_refused_schema_or_example_shows_the_form_again_and_saves_nothing(app, client, staff):
    token = staff("admin")
    base = {"csrf_token": token, "name": "qr.scanned", "schema": json.dumps(QR_SCHEMA)}
    for changes, says in (({"schema": "{not json"}, "schema is not valid JSON"),
                          ({"schema": '{"type": "objekt"}'}, "not a valid JSON Schema (2020-12) at /type"),
                          ({"example": '{"qr_code": "abcd12"}'}, "payload.qr_code: &#39;abcd12&#39; does not match")):
        response = client.post("/admin/event-types/", data={**base, **changes})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and says in html and "nothing was changed" in html, changes
    with app.app_context():
        assert db.session.query(EventType).count() == 0
        assert db.session.query(AuditEntry).filter(AuditEntry.target_type == "event_type").count() == 0


def test_the_endpoint_form_offers_the_catalog(app, client, staff):
    add(app)
    add(app, "qr.lost", deprecated=True)
    staff("admin")
    page = client.get("/admin/endpoints/new").get_data(as_text=True)
    assert 'data-add-pattern="qr.scanned"' in page and 'data-add-pattern="qr.*"' in page
    assert "qr.lost (deprecated)" in page


def test_the_send_event_form_refuses_what_the_catalog_refuses(app, client, make_endpoint):
    shop = make_endpoint(name="Shop")
    add(app)
    make_user(app, "admin")
    token = sign_in(client, "admin@example.com")
    form = {"csrf_token": token, "event_type": "qr.scanned", "endpoint_ids": [shop.id],
            "payload": '{"qr_code": "abcd12"}'}
    for step in ("preview", "send"):
        response = client.post(f"/admin/send-event/{step}", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "payload.qr_code: &#39;abcd12&#39; does not match" in html
    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_partners_read_the_catalog_without_signing_in_in_use_first(app, client):
    add(app, "a.old", deprecated=True, description="<script>alert(1)</script>")
    add(app, "qr.scanned")
    response = client.get("/docs/events")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sign in" not in html
    assert html.index('data-event-type="qr.scanned"') < html.index('data-event-type="a.old"')
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"qr_code": "ABCD1234"' in html and "deprecated" in html
    assert client.post("/docs/events").status_code == 405
