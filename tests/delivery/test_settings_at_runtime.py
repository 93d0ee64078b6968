"""Settings admins change on the Settings page are what the workers use: the breaker's threshold and cooldown, the
auto-disable window, the retry schedule, the inbound alert thresholds and the record retention; and reading them
costs no query per delivery."""

from datetime import timedelta

from sqlalchemy import event

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import DeliveryStatus, Endpoint, EndpointState, Setting, utcnow
from app.ops.alert_rules import evaluate_rules
from app.ops.retention import cutoffs
from app.staff import settings
from app.staff.settings import get_setting, set_setting
from tests.inbound import signing
from tests.inbound.sources_helpers import BODY, new_source
from tests.support.factories import load, load_endpoint, send, update
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

ADMIN = Actor("admin@example.com")


def save_on_page(client, staff, **values):
    token = staff("admin")
    response = client.post("/admin/settings/", data={"csrf_token": token, **values})
    assert response.status_code == 302, response.get_data(as_text=True)


def fail_one(app, broker, worker, receiver):
    """Send one message and let the worker make its one attempt (the endpoint allows one)."""
    sent = len(receiver.requests)
    _, (delivery_id,) = send(app)
    broker.join("webhooks")
    worker.join()
    return delivery_id, len(receiver.requests) - sent


def test_a_lower_breaker_threshold_opens_the_breaker_sooner(app, client, staff, make_endpoint, receiver, broker,
                                                           worker):
    receiver.default = Reply(503)
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 600
    before = make_endpoint(max_attempts=1)
    for _ in range(2):
        fail_one(app, broker, worker, receiver)
    assert load_endpoint(app, before.id).breaker_open_until is None  # the environment's 5: still closed
    update(app, Endpoint, before.id, state=EndpointState.DISABLED)

    save_on_page(client, staff, breaker_threshold="2")
    endpoint = make_endpoint(max_attempts=1)
    for _ in range(2):
        assert fail_one(app, broker, worker, receiver)[1] == 1
    assert load_endpoint(app, endpoint.id).breaker_open_until > utcnow() + timedelta(seconds=500)
    sent = len(receiver.requests)
    _, (held,) = send(app)  # not joined: the held delivery's wake-up waits in the broker for the cooldown
    wait_until(lambda: load(app, held).held_reason == "breaker open")
    assert load(app, held).status is DeliveryStatus.PENDING and load(app, held).attempt_count == 0
    assert len(receiver.requests) == sent  # nothing reached the receiver


def test_the_breaker_cooldown_comes_from_the_setting(app, make_endpoint, receiver):
    with app.app_context():
        set_setting("breaker_threshold", "1", actor=ADMIN)
        set_setting("breaker_cooldown_seconds", "900", actor=ADMIN)
    endpoint = make_endpoint()
    receiver.default = Reply(503)
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    opened = load_endpoint(app, endpoint.id).breaker_open_until
    assert utcnow() + timedelta(seconds=800) < opened < utcnow() + timedelta(seconds=901)


def test_the_auto_disable_window_comes_from_the_setting(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    update(app, Endpoint, endpoint.id, failing_since=utcnow() - timedelta(minutes=2), consecutive_failures=1)
    receiver.default = Reply(500)
    _, (first,) = send(app)
    with app.app_context():
        attempt_delivery(first)
    assert load_endpoint(app, endpoint.id).state is EndpointState.ENABLED  # 2 minutes is under the 5 days
    with app.app_context():
        set_setting("auto_disable_after_seconds", "60", actor=ADMIN)
    _, (second,) = send(app)
    with app.app_context():
        attempt_delivery(second)
    disabled = load_endpoint(app, endpoint.id)
    assert disabled.state is EndpointState.DISABLED and disabled.state_reason.startswith("every attempt has failed")


def test_the_retry_schedule_comes_from_the_setting(app, make_endpoint, receiver):
    with app.app_context():
        set_setting("retry_schedule", "120, 600", actor=ADMIN)
    endpoint = make_endpoint()
    assert load_endpoint(app, endpoint.id).max_attempts == 3  # a new endpoint: the schedule's steps and the first
    receiver.default = Reply(503)
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING
    assert utcnow() + timedelta(seconds=100) < delivery.next_attempt_at < utcnow() + timedelta(seconds=121)


def test_the_inbound_rejection_threshold_comes_from_the_setting(app, client):
    source_id, _ = new_source(app, name="shop", secret="shpss_the-right-secret")
    for n in range(2):
        headers = signing.shopify("shpss_a-wrong-secret", BODY, webhook_id=f"wh-{n}")
        assert client.post("/inbound/shop", data=BODY, headers=headers).status_code == 401
    with app.app_context():
        assert evaluate_rules()["changes"] == []  # 2 is under the environment's 20
        set_setting("inbound_alert_rejections", "2", actor=ADMIN)
        changes = evaluate_rules()["changes"]
    assert [(c["key"].split(":")[0], c["change"]) for c in changes] == [("inbound_rejecting", "fired")]


def test_the_record_retention_comes_from_the_setting(app):
    now = utcnow()
    with app.app_context():
        assert cutoffs(now)["records"] == now - timedelta(days=90)
        set_setting("record_retention_days", "400", actor=ADMIN)
        assert cutoffs(now)["records"] == now - timedelta(days=400)


def test_settings_are_read_once_per_interval_not_per_call(app, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(settings, "monotonic", lambda: clock[0])
    with app.app_context():
        set_setting("breaker_threshold", "3", actor=ADMIN)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert [get_setting("breaker_threshold") for _ in range(100)] == [3] * 100
        assert len([s for s in statements if "FROM settings" in s]) == 1  # one read of the table, then none
        # Another process changes it: this one sees it once its copy is CACHE_SECONDS old.
        db.session.get(Setting, "breaker_threshold").value = 7
        db.session.commit()
        assert get_setting("breaker_threshold") == 3
        clock[0] += settings.CACHE_SECONDS
        assert get_setting("breaker_threshold") == 7
