"""The command-line tools print plain human lines: users create --one-time, alerts, digest, smoke."""

from datetime import timedelta

from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, Endpoint, User, utcnow
from tests.support.factories import send, update


def test_one_time_admin_gets_a_password_on_the_last_line_and_must_change_it(app, runner, client):
    result = runner.invoke(args=["users", "create", "Boss@Example.com", "--role", "admin", "--one-time"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    assert len(password) >= 10 and " " not in password
    response = client.post("/login", data={"email": "boss@example.com", "password": password,
                                           "csrf_token": _login_token(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert client.get("/admin/users/").status_code in (302, 303)  # nothing else until it is changed
    with app.app_context():
        user = db.session.query(User).filter_by(email="boss@example.com").one()
        assert user.must_change_password
        entry = db.session.query(AuditEntry).filter_by(action="user.create").one()
        assert entry.actor == "cli" and password not in str(entry.after) + entry.summary


def test_one_time_and_a_password_together_are_refused(app, runner):
    result = runner.invoke(args=["users", "create", "b@example.com", "--one-time", "--password", "a long password"])
    assert result.exit_code != 0 and "either --password or --one-time" in result.output
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_alerts_evaluate_prints_plain_lines(app, runner, make_endpoint, broker, worker):
    assert runner.invoke(args=["alerts", "evaluate"]).output == "No alert started or recovered.\n"
    make_endpoint()
    _, (delivery_id,) = send(app)
    broker.join("webhooks")
    worker.join()
    update(app, Delivery, delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=utcnow() - timedelta(minutes=16))
    output = runner.invoke(args=["alerts", "evaluate"]).output
    assert output.startswith("Backlog fired: ") and ":" not in output.removeprefix("Backlog fired: ").split(" ")[0]
    assert "{" not in output and output.count("\n") == 1


def test_alerts_digest_prints_a_sentence_not_a_dict(app, runner):
    output = runner.invoke(args=["alerts", "digest", "--day", "2026-11-29"]).output
    assert output == "Did not send the digest for 2026-11-29: no recipients or no SMTP_HOST.\n"


def test_smoke_without_a_public_url_is_a_clear_error_and_creates_nothing(app, runner):
    result = runner.invoke(args=["smoke", "--timeout", "1"])
    assert result.exit_code == 1 and "set PUBLIC_URL" in result.output
    with app.app_context():
        assert db.session.query(Endpoint).count() == 0


def _login_token(client):
    from tests.support.staff import login_token

    return login_token(client)
