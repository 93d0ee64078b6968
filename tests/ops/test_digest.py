from app.models import utcnow
from app.ops.digest import send_digest
from tests.support.factories import send
from tests.support.receiver import Reply


def test_the_daily_digest_emails_volume_success_rate_and_top_errors_per_endpoint(
        app, make_endpoint, receiver, alerts, broker, worker):
    _, smtp = alerts
    app.config.update(WEBHOOK_BREAKER_THRESHOLD=1000)
    make_endpoint(name="Warehouse", max_attempts=1)
    receiver.reply(Reply(502), Reply(502), Reply(404), Reply(200))
    for _ in range(4):
        send(app)
    broker.join("webhooks")
    worker.join()
    with app.app_context():
        sent = send_digest(utcnow().date())
    assert sent["sent_to"] == 1 and sent["deliveries"] == 4
    (mail,) = smtp.messages
    text = mail.get_payload(decode=True).decode()
    assert mail["Subject"] == f"[Hookyard] Daily digest for {utcnow().date().isoformat()}"
    assert "Deliveries created: 4 (1 succeeded, 3 failed)" in text
    assert "Attempts: 4, failed: 3, success rate: 25.0 %" in text
    assert "- Warehouse: 4 attempts, 3 failed (HTTP 502 x2; HTTP 404 x1)" in text


def test_no_recipient_no_email(app, alerts):
    _, smtp = alerts
    app.config.update(DIGEST_EMAIL_TO=[], ALERT_EMAIL_TO=[])
    with app.app_context():
        assert send_digest()["sent_to"] == 0
    assert smtp.messages == []
