"""The Settings page: the delivery, inbound-alert, retention and portal settings are validated with app.config's
ranges and audited, a refused value saves nothing; a warning when alert emails have no SMTP server; a test alert."""

import json
import re

import pytest

from app.extensions import db
from app.models import AuditEntry, Setting
from tests.support.receiver import Reply


def settings_saved(app):
    with app.app_context():
        return {row.key: row.value for row in db.session.query(Setting)}


def audit(app, action):
    with app.app_context():
        return [(e.actor, e.target_ids, e.before, e.after, e.summary)
                for e in db.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)]


def test_new_settings_are_on_the_page_with_their_environment_defaults(app, client, staff):
    app.config.update(WEBHOOK_BREAKER_THRESHOLD=7, RECORD_RETENTION_DAYS=120)
    staff("admin")
    page = client.get("/admin/settings/").get_data(as_text=True)
    for key in ("breaker_threshold", "breaker_cooldown_seconds", "auto_disable_after_seconds", "retry_schedule",
                "inbound_alert_failures", "inbound_alert_rejections", "inbound_unprocessed_alert_minutes",
                "record_retention_days", "shop_name"):
        assert f'name="{key}"' in page, key
    assert 'id="breaker_threshold" name="breaker_threshold" value="7"' in page
    assert 'id="record_retention_days" name="record_retention_days" value="120"' in page
    assert 'value="0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05"' in page  # the test suite's WEBHOOK_RETRY_SCHEDULE


def test_valid_values_are_saved_and_each_is_audited(app, client, staff):
    token = staff("admin")
    response = client.post("/admin/settings/", data={
        "csrf_token": token, "breaker_threshold": "3", "breaker_cooldown_seconds": "90.5",
        "retry_schedule": "10, 60,600", "inbound_alert_failures": "4", "record_retention_days": "30",
        "shop_name": "  Mosaic Tiles Oy "})
    assert response.status_code == 302
    assert settings_saved(app) == {"breaker_threshold": 3, "breaker_cooldown_seconds": 90.5,
                                   "retry_schedule": [10, 60, 600], "inbound_alert_failures": 4,
                                   "record_retention_days": 30, "shop_name": "Mosaic Tiles Oy"}
    entries = {e[1][0]: e for e in audit(app, "setting.update")}
    assert entries["breaker_threshold"][:4] == ("admin@example.com", ["breaker_threshold"], {"breaker_threshold": 5},
                                                {"breaker_threshold": 3})
    assert entries["retry_schedule"][3] == {"retry_schedule": [10, 60, 600]}
    assert entries["retry_schedule"][4] == "retry_schedule: 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05 -> 10, 60, 600"
    assert entries["shop_name"][2:4] == ({"shop_name": ""}, {"shop_name": "Mosaic Tiles Oy"})
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert 'name="retry_schedule" value="10, 60, 600"' in page and "changed by admin@example.com" in page


@pytest.mark.parametrize("key, raw, says", [
    ("breaker_threshold", "0", "must be from 1 to 100000"),
    ("breaker_threshold", "2.5", "enter a whole number"),
    ("breaker_cooldown_seconds", "nan", "enter a number"),
    ("breaker_cooldown_seconds", "86401", "must be from 0 to 86400"),
    ("auto_disable_after_seconds", "-1", "must be from 0 to 31536000"),
    ("retry_schedule", "5, soon", "waits in seconds"),
    ("retry_schedule", "5,-1", "waits in seconds"),
    ("retry_schedule", "inf", "waits in seconds"),
    ("retry_schedule", "", "waits in seconds"),
    ("retry_schedule", ",".join(["5"] * 51), "enter 1 to 50 waits"),
    ("inbound_alert_failures", "0", "must be from 1 to 1000000"),
    ("inbound_alert_rejections", "lots", "enter a whole number"),
    ("inbound_unprocessed_alert_minutes", "10081", "must be from 1 to 10080"),
    ("record_retention_days", "3651", "must be from 1 to 3650"),
    ("shop_name", "x" * 81, "at most 80 characters"),
    ("shop_name", "Shop\u0085Name", "at most 80 characters on one line"),
])
def test_a_refused_value_answers_400_and_saves_nothing(app, client, staff, key, raw, says):
    token = staff("admin")
    other = "refresh_seconds" if key != "refresh_seconds" else "retry_hourly_cap"
    response = client.post("/admin/settings/", data={"csrf_token": token, other: "45", key: raw})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and "nothing was saved" in page
    assert f'data-error="{key}"' in page and 'aria-invalid="true"' in page
    assert settings_saved(app) == {}  # not even the acceptable value sent beside it
    assert audit(app, "setting.update") == []


def test_only_admins_change_settings(app, client, staff):
    token = staff("operator")
    assert client.get("/admin/settings/").status_code == 403
    assert client.post("/admin/settings/", data={"csrf_token": token, "breaker_threshold": "2"}).status_code == 403
    assert client.post("/admin/settings/test-alert", data={"csrf_token": token}).status_code == 403
    assert settings_saved(app) == {} and audit(app, "alert.test") == []


def test_alert_emails_without_an_smtp_server_are_warned_about_and_the_test_alert_says_why(app, client, staff):
    token = staff("admin")
    assert 'id="smtp-warning"' not in client.get("/admin/settings/").get_data(as_text=True)
    client.post("/admin/settings/", data={"csrf_token": token, "alert_email_to": "ops@example.com"})
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert 'id="smtp-warning"' in page and "SMTP_HOST" in page
    answer = client.post("/admin/settings/test-alert", data={"csrf_token": token}, follow_redirects=True)
    assert "Email: not sent: no SMTP server is configured (set SMTP_HOST)" in answer.get_data(as_text=True)
    ((actor, _, _, after, summary),) = audit(app, "alert.test")
    assert actor == "admin@example.com" and after == {"channels": {"email": "no SMTP server is configured "
                                                                            "(set SMTP_HOST)"}}
    app.config.update(SMTP_HOST="127.0.0.1")
    assert 'id="smtp-warning"' not in client.get("/admin/settings/").get_data(as_text=True)


def test_a_test_alert_reaches_the_smtp_server_and_the_notification_url(app, client, staff, alerts):
    notified, smtp = alerts
    token = staff("admin")
    answer = client.post("/admin/settings/test-alert", data={"csrf_token": token}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Notification URL: sent, the notification URL accepted it." in page
    assert "Email: sent, sent to ops@example.com." in page
    (mail,) = smtp.messages
    assert mail["Subject"] == "[Hookyard] Test alert" and mail["To"] == "ops@example.com"
    assert "admin@example.com" in mail.get_payload()
    (posted,) = notified.requests
    assert json.loads(posted.body)["type"] == "test"
    ((_, _, _, after, summary),) = audit(app, "alert.test")
    assert after == {"channels": {"webhook": "sent", "email": "sent"}} and "webhook: sent; email: sent" in summary


def test_a_failing_channel_is_reported_and_the_other_still_sent(app, client, staff, alerts):
    notified, smtp = alerts
    notified.default = Reply(500)
    token = staff("admin")
    page = client.post("/admin/settings/test-alert", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Notification URL: not sent: AlertNotSent: notification URL answered" in page
    assert len(smtp.messages) == 1


def test_a_test_alert_without_any_channel_says_so(app, client, staff):
    token = staff("admin")
    page = client.post("/admin/settings/test-alert", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Test alert: not sent: no alert channel is set" in page
    assert len(audit(app, "alert.test")) == 1


def test_the_new_endpoint_form_offers_as_many_attempts_as_the_retry_schedule(app, client, staff):
    token = staff("admin")
    assert re.search(r'name="max_attempts"[^>]* value="8"', client.get("/admin/endpoints/new").get_data(as_text=True))
    client.post("/admin/settings/", data={"csrf_token": token, "retry_schedule": "5, 60, 600"})
    assert re.search(r'name="max_attempts"[^>]* value="4"', client.get("/admin/endpoints/new").get_data(as_text=True))
