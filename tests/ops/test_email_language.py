"""Endpoint alert and digest emails go out in ALERT_EMAIL_LANGUAGE; the audit entry and the JSON notice stay
English (a log and a machine read them)."""

import json
from email.header import decode_header, make_header

from app.alerts import send_alert
from app.extensions import db
from app.models import AuditEntry, utcnow
from app.ops.digest import send_digest


def subject(mail):
    return str(make_header(decode_header(mail["Subject"])))


def test_an_endpoint_alert_email_in_vietnamese_keeps_its_audit_and_json_in_english(app, make_endpoint, alerts):
    notified, smtp = alerts
    app.config.update(ALERT_EMAIL_LANGUAGE="vi")
    endpoint = make_endpoint(name="Kho")
    with app.app_context():
        assert send_alert("failing", endpoint.id, "5 attempts in a row failed") == ["webhook", "email"]
        entry = db.session.query(AuditEntry).filter_by(action="alert.failing").one()
        assert entry.summary.startswith("Kho is failing")
    (mail,) = smtp.messages
    text = mail.get_payload(decode=True).decode()
    assert subject(mail) == "[Hookyard] Endpoint Kho đang lỗi"
    assert "Số lần lỗi liên tiếp: 0" in text and "Cần làm gì: " in text
    assert json.loads(notified.requests[0].body)["type"] == "endpoint.failing"


def test_the_digest_in_vietnamese(app, alerts):
    _, smtp = alerts
    app.config.update(ALERT_EMAIL_LANGUAGE="vi")
    with app.app_context():
        assert send_digest(utcnow().date())["sent_to"] == 1
    (mail,) = smtp.messages
    assert subject(mail) == f"[Hookyard] Báo cáo hằng ngày cho {utcnow().date().isoformat()}"
    assert "tỷ lệ thành công: không có lượt thử" in mail.get_payload(decode=True).decode()


def test_english_is_the_default(app, make_endpoint, alerts):
    _, smtp = alerts
    endpoint = make_endpoint(name="Kho")
    with app.app_context():
        send_alert("failing", endpoint.id, "5 attempts in a row failed")
    assert smtp.messages[0]["Subject"] == "[Hookyard] Endpoint Kho is failing"
