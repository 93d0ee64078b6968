"""Console v2 pages without a browser: send an event, resend, resolve, replay, the cap and its lift, time zones,
security headers. Each state change is a POST with CSRF, checked for its role, audited."""

import json
import re

from sqlalchemy import select

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, Message, User
from app.staff.settings import set_setting
from tests.support.factories import load, send
from tests.support.receiver import Reply
from tests.support.staff import make_user


def failed(app, receiver, **message):
    receiver.reply(Reply(400))
    _, (delivery_id,) = send(app, **message)
    with app.app_context():
        attempt_delivery(delivery_id)
    return delivery_id


def test_every_staff_page_sends_the_security_headers(client, staff):
    staff("viewer")
    for url in ("/admin/", "/login", "/admin/endpoints/"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
        assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp) and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_carry_no_inline_script_handler_or_style(client, staff, make_endpoint, app, receiver):
    endpoint = make_endpoint()
    delivery_id = failed(app, receiver, reference="#1")
    staff("admin")
    for url in ("/admin/", f"/admin/log/{delivery_id}", f"/admin/endpoints/{endpoint.id}", "/admin/jobs/",
                "/admin/settings/", "/admin/users/", "/admin/audit/", "/admin/messages/", "/admin/send-event/",
                "/admin/preferences/", f"/admin/log/{delivery_id}/resend", "/admin/endpoints/new",
                "/admin/event-types/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"]).group(1)
        assert not re.search(r"\son[a-z]+=", html), url
        assert not re.search(r"\sstyle=", html), url
        # Flask-Admin's stock pages keep inert href="javascript:void(0)" links (active tabs, disabled pager
        # arrows) that do nothing under the CSP either; the console's own pages have none.
        assert "javascript:" not in html.replace('href="javascript:void(0)"', ""), url
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            assert f'nonce="{nonce}"' in tag, (url, tag)
            assert "src=" in tag or "<style" in tag, (url, tag)  # no inline script body


def test_send_an_event_previews_then_sends_and_is_admin_only(app, client, staff, make_endpoint, receiver):
    shop = make_endpoint(name="Shop", event_types=["order.*"])
    make_endpoint(name="Billing", event_types=["invoice.*"])
    original, _ = send(app, payload={"order": 1001}, reference="#1001")
    operator_token = staff("operator")
    assert client.post("/admin/send-event/send", data={"csrf_token": operator_token}).status_code == 403
    client.post("/logout", data={"csrf_token": operator_token})
    make_user(app, "admin")
    from tests.support.staff import sign_in
    token = sign_in(client, "admin@example.com")

    form = {"csrf_token": token, "event_type": "order.created", "endpoint_ids": [shop.id],
            "references": "#1001\n#404", "payload": '{"order": 7}'}
    preview = client.post("/admin/send-event/preview", data=form).get_data(as_text=True)
    assert "Preview: 2 messages of order.created" in preview and "No earlier order.created message for: #404" in preview
    with app.app_context():
        assert db.session.query(Message).count() == 1  # a preview sends nothing
    bad = client.post("/admin/send-event/preview", data={**form, "payload": "{not json"})
    assert bad.status_code == 422 and "not valid JSON" in bad.get_data(as_text=True)

    assert client.post("/admin/send-event/send", data=form).status_code == 302
    with app.app_context():
        sent = db.session.scalars(select(Message).where(Message.id != original).order_by(Message.id)).all()
        assert sorted(json.loads(m.payload)["order"] for m in sent) == [7, 1001]
        resent = next(m for m in sent if m.reference == "#1001")
        assert resent.resent_from_id == original and [d.endpoint_id for d in resent.deliveries] == [shop.id]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.send"))
        assert entry.actor == "admin@example.com" and entry.after["missing_references"] == ["#404"]


def test_resend_page_validates_json_and_links_the_new_message(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    delivery_id = failed(app, receiver, payload={"qr": "A"}, reference="#7")
    token = staff("operator")
    page = client.get(f"/admin/log/{delivery_id}/resend").get_data(as_text=True)
    assert "&#34;qr&#34;: &#34;A&#34;" in page and "data-json-editor" in page
    bad = client.post(f"/admin/log/{delivery_id}/resend", data={"csrf_token": token, "payload": "[1, 2]"})
    assert bad.status_code == 422 and "must be a JSON object; nothing was sent" in bad.get_data(as_text=True)
    done = client.post(f"/admin/log/{delivery_id}/resend", data={"csrf_token": token, "payload": '{"qr": "B"}'})
    new_log = done.headers["Location"]
    html = client.get(new_log).get_data(as_text=True)
    original = load(app, delivery_id).message_id
    assert "Resent from" in html and f"/admin/messages/details/?id={original}" in html
    old_html = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert "Resent as" in old_html


def test_resolve_from_the_log_moves_it_to_the_resolved_tab(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    delivery_id = failed(app, receiver, reference="#1005")
    token = staff("operator")
    empty = client.post(f"/admin/resolve/{delivery_id}", data={"csrf_token": token, "note": " "})
    assert empty.status_code == 302 and load(app, delivery_id).resolved_at is None
    client.post(f"/admin/resolve/{delivery_id}", data={"csrf_token": token, "note": "refunded by hand"})
    assert load(app, delivery_id).resolved_note == "refunded by hand"
    failed_tab = client.get("/admin/?status=failed").get_data(as_text=True)
    assert delivery_id not in failed_tab and re.search(r'id="count-failed" data-count>0<', failed_tab)
    resolved_tab = client.get("/admin/?status=failed&resolved=1").get_data(as_text=True)
    assert delivery_id in resolved_tab and re.search(r'id="count-resolved" data-count>1<', resolved_tab)
    assert delivery_id in client.get("/admin/?q=1005").get_data(as_text=True)  # search still finds it


def test_viewers_cannot_act(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    delivery_id = failed(app, receiver)
    token = staff("viewer")
    for url in (f"/admin/replay/{delivery_id}", f"/admin/resolve/{delivery_id}", f"/admin/log/{delivery_id}/resend",
                "/admin/users/lift-cap/1", "/admin/send-event/preview"):
        assert client.post(url, data={"csrf_token": token, "note": "x", "payload": "{}"}).status_code == 403, url
    assert load(app, delivery_id).status.value == "failed"


def test_the_cap_is_shown_and_an_admin_lifts_it_for_the_incident(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    ids = [failed(app, receiver) for _ in range(2)]
    make_user(app, "operator")
    with app.app_context():
        set_setting("retry_hourly_cap", 1, actor=Actor("admin@example.com"))
        operator_id = db.session.scalar(select(User.id).where(User.email == "operator@example.com"))
    token = staff("admin")
    from app.staff.retry_cap import retry_allowance
    with app.app_context():
        assert retry_allowance(Actor("operator@example.com")).describe() == "1 of 1 retries left this hour"
    refused = client.post(f"/admin/users/lift-cap/{operator_id}", data={"csrf_token": token, "hours": "inf"})
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(User, operator_id).retry_cap_lifted_until is None  # refused, nothing changed
    client.post(f"/admin/users/lift-cap/{operator_id}", data={"csrf_token": token, "hours": "2"})
    with app.app_context():
        allowance = retry_allowance(Actor("operator@example.com"))
        assert allowance.unlimited and allowance.describe().startswith("Retry cap lifted until")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.lift_cap"))
        assert entry.actor == "admin@example.com" and entry.target_ids == [operator_id]
    assert ids


def test_times_show_in_the_viewers_time_zone(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    delivery_id = failed(app, receiver)
    token = staff("viewer")
    assert "UTC" in client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    bad = client.post("/admin/preferences/", data={"csrf_token": token, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 302
    client.post("/admin/preferences/", data={"csrf_token": token, "time_zone": "Asia/Tokyo"})
    html = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST", html)
    with app.app_context():
        assert db.session.scalar(select(User.time_zone).where(User.email == "viewer@example.com")) == "Asia/Tokyo"
        assert db.session.query(Delivery).count() == 1


def test_a_live_fragment_after_sign_out_sends_the_page_to_sign_in(client, staff):
    token = staff("viewer")
    assert client.get("/admin/rows", headers={"HX-Request": "true"}).status_code == 200
    client.post("/logout", data={"csrf_token": token})
    response = client.get("/admin/rows", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"
