"""Endpoint alert and digest emails go out in ALERT_EMAIL_LANGUAGE; the audit entry and the JSON notice stay
English (a log and a machine read them)."""

import json
from email.header import decode_header, make_header

from app.alerts import send_alert, send_test_alert
from app.audit import Actor
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


def test_a_member_of_staff_who_chose_a_language_gets_alerts_and_digests_in_it(app, make_endpoint, alerts):
    from tests.support.staff import make_user

    _, smtp = alerts
    app.config.update(ALERT_EMAIL_TO=["ops@example.com", "Operator@Example.com"])
    make_user(app, "operator")
    with app.app_context():
        from app.models import User

        db.session.query(User).filter_by(email="operator@example.com").one().locale = "vi"
        db.session.commit()
    endpoint = make_endpoint(name="Kho")
    with app.app_context():
        assert send_alert("failing", endpoint.id, "5 attempts in a row failed") == ["webhook", "email"]
        assert send_digest(utcnow().date())["sent_to"] == 2
        send_test_alert(Actor("admin@example.com"))
    sent = {(mail["To"], subject(mail)) for mail in smtp.messages}
    day = utcnow().date().isoformat()
    assert sent == {("ops@example.com", "[Hookyard] Endpoint Kho is failing"),
                    ("Operator@Example.com", "[Hookyard] Endpoint Kho đang lỗi"),
                    ("ops@example.com", f"[Hookyard] Daily digest for {day}"),
                    ("Operator@Example.com", f"[Hookyard] Báo cáo hằng ngày cho {day}"),
                    ("ops@example.com", "[Hookyard] Test alert"),
                    ("Operator@Example.com", "[Hookyard] Cảnh báo thử")}
