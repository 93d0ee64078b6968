"""The services' refusals in the reader's language: a Vietnamese staff member reads why a setting or an endpoint was
refused in Vietnamese, while the API's JSON errors and the audit log stay English whoever asks."""

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Setting
from tests.admin.test_endpoints_admin import form
from tests.admin.test_language import choose

VIETNAMESE = {"Accept-Language": "vi"}


def test_a_vietnamese_admin_reads_why_a_setting_was_refused_in_vietnamese(app, client, staff):
    token = staff("admin")
    choose(client, token, "vi")
    response = client.post("/admin/settings/", data={"csrf_token": token, "breaker_threshold": "2.5",
                                                     "alert_email_to": "ops@example.com, not-an-address"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2 cài đặt bị từ chối; chưa lưu gì cả." in html
    assert "Số lần thất bại liên tiếp (hết thời gian, lỗi kết nối, 5xx, 429) làm ngắt cầu dao" in html  # the label
    assert ": nhập một số nguyên</div>" in html
    assert "không phải địa chỉ email: not-an-address</div>" in html
    assert "enter a whole number" not in html and "not an email address" not in html
    with app.app_context():
        assert db.session.scalar(select(Setting).limit(1)) is None


def test_a_vietnamese_operator_reads_a_refused_endpoint_in_vietnamese_and_the_audit_stays_english(
        app, client, staff, receiver):
    token = staff("admin")
    choose(client, token, "vi")
    refused = client.post("/admin/endpoints/new", data={**form(receiver, url="ftp://shop.example/hook"),
                                                         "csrf_token": token}).get_data(as_text=True)
    assert "URL phải bắt đầu bằng http:// hoặc https://; không có gì thay đổi." in refused  # the flash
    assert "url must start with" not in refused
    client.post("/admin/settings/", data={"csrf_token": token, "breaker_threshold": "3"})
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting.update"))
    assert entry.summary == "breaker_threshold: 5 -> 3"


def test_the_same_refusal_through_the_api_is_english_plain_json(client, auth):
    response = client.post("/api/v1/endpoints", headers={**auth, **VIETNAMESE},
                           json={"url": "https://shop.example/x", "headers": {"Webhook-Id": "1"}})
    assert response.status_code == 422
    assert response.json == {"error": "headers: Webhook-Id is set by Hookyard and cannot be overridden",
                             "field": "headers"}


def test_a_batch_item_refused_through_the_api_is_english(client, auth, make_endpoint):
    make_endpoint()
    response = client.post("/api/v1/messages", headers={**auth, **VIETNAMESE},
                           json={"event_type": "order.created", "payload": {"id": 1},
                                 "deliver_at": "2020-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert response.json["error"] == "deliver_at is in the past; leave it out to send at once"


def test_the_portal_and_the_api_speak_english_whatever_the_browser_asks(app):
    from app.i18n import select_locale

    for method, path in (("GET", "/api/v1/endpoints"), ("GET", "/portal/enter"), ("POST", "/inbound/shop"),
                         ("GET", "/healthz"), ("GET", "/docs/events")):
        with app.test_request_context(path, method=method, headers=VIETNAMESE):
            assert select_locale() == "en", path
    with app.test_request_context("/admin/", headers=VIETNAMESE):
        assert select_locale() == "vi"


def test_a_refusal_is_plain_english_text_and_localized_for_the_page(app):
    from flask_babel import lazy_gettext as _l

    from app.errors import InvalidInput

    with app.test_request_context("/admin/", headers=VIETNAMESE):
        exc = InvalidInput(_l("%(field)s must be true or false", field="enabled"), field="enabled")
        assert (exc.message, str(exc)) == ("enabled must be true or false",) * 2
        assert type(exc.message) is str and type(exc.localized) is str
        assert exc.localized == "enabled phải là true hoặc false"


def test_a_refused_deletion_reads_in_vietnamese_in_the_console_and_english_in_the_api(app, client, staff, auth,
                                                                                       make_endpoint):
    from tests.support.factories import send

    endpoint = make_endpoint()
    send(app)  # one pending delivery: deleting without force is refused
    token = staff("admin")
    choose(client, token, "vi")
    page = client.post(f"/admin/endpoints/{endpoint.id}/delete", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert f"endpoint {endpoint.id} còn 1 lượt gửi đang chờ" in page
    assert "pending deliveries" not in page
    response = client.delete(f"/api/v1/endpoints/{endpoint.id}", headers={**auth, **VIETNAMESE})
    assert response.status_code == 409
    assert response.json["error"].startswith(f"endpoint {endpoint.id} has 1 pending deliveries")
