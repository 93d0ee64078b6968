import json
from datetime import timedelta

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.endpoints.service import set_state
from app.extensions import db
from app.models import AuditEntry, DeliveryStatus, Endpoint, EndpointState, utcnow
from tests.support.factories import load, load_endpoint, send, send_many, update
from tests.support.receiver import Reply
from tests.support.waiting import wait_until


def drain(broker, worker):
    for queue in ("webhooks", "alerts", "jobs"):
        broker.join(queue)
    worker.join()



def test_410_gone_disables_the_endpoint_and_keeps_deliveries_pending(app, make_endpoint, receiver, alerts, broker,
                                                                     worker):
    notified, smtp = alerts
    endpoint = make_endpoint(name="OnlyPerf")
    receiver.default = Reply(410, b"gone")
    first, second = send_many(app, 2)  # one transaction: the running worker cannot disable it in between
    drain(broker, worker)
    disabled = load_endpoint(app, endpoint.id)
    assert disabled.state is EndpointState.DISABLED and disabled.state_reason == "the endpoint answered 410 Gone"
    assert load(app, first).status is DeliveryStatus.PENDING and load(app, second).status is DeliveryStatus.PENDING
    assert len(receiver.requests) <= 2  # at most the two attempts already under way when it was disabled
    assert send(app)[1] == []  # and it receives no new deliveries
    (alert,) = notified.requests
    body = json.loads(alert.body)
    assert body["type"] == "endpoint.disabled" and body["endpoint"]["state"] == "disabled"
    assert body["endpoint"]["pending_deliveries"] >= 1  # the other may still have been under way
    (mail,) = smtp.messages
    assert mail["Subject"] == "[Hookyard] Endpoint OnlyPerf was disabled" and mail["To"] == "ops@example.com"
    assert endpoint.secret not in mail.as_string()
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.auto_disable").one()
        assert entry.actor == "system" and entry.after["state"] == "disabled"


def test_five_days_of_nothing_but_failures_disables(app, make_endpoint, receiver, alerts, broker, worker):
    notified, _ = alerts
    endpoint = make_endpoint()
    update(app, Endpoint, endpoint.id, failing_since=utcnow() - timedelta(days=5, minutes=1), consecutive_failures=1)
    receiver.reply(Reply(500))
    _, (delivery_id,) = send(app)
    drain(broker, worker)
    disabled = load_endpoint(app, endpoint.id)
    assert disabled.state is EndpointState.DISABLED and disabled.state_reason.startswith("every attempt has failed")
    assert load(app, delivery_id).status is DeliveryStatus.PENDING
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["endpoint.disabled"]


def test_a_failing_endpoint_is_announced_once_then_its_recovery(app, make_endpoint, receiver, alerts, broker, worker):
    notified, smtp = alerts
    endpoint = make_endpoint(max_attempts=1)
    receiver.default = Reply(503)
    for _ in range(7):
        send(app)
        drain(broker, worker)
        update(app, Endpoint, endpoint.id, breaker_open_until=None)  # let every attempt through for this test
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["endpoint.failing"]
    receiver.default = Reply(200)
    send(app)
    drain(broker, worker)
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["endpoint.failing", "endpoint.recovered"]
    assert [m["Subject"] for m in smtp.messages] == [
        f"[Hookyard] Endpoint {endpoint.url} is failing", f"[Hookyard] Endpoint {endpoint.url} has recovered"]
    assert load_endpoint(app, endpoint.id).alerted is None


def test_pause_and_resume_by_hand_raise_no_alert(app, make_endpoint, alerts, broker, worker):
    notified, smtp = alerts
    endpoint = make_endpoint()
    with app.app_context():
        set_state(endpoint.id, "paused", actor=Actor("admin"))
        set_state(endpoint.id, "enabled", actor=Actor("admin"))
    drain(broker, worker)
    assert notified.requests == [] and smtp.messages == []


def test_resuming_a_disabled_endpoint_delivers_what_waited(app, make_endpoint, receiver, broker, worker):
    endpoint = make_endpoint()
    receiver.reply(Reply(410))
    ids = send_many(app, 3)
    drain(broker, worker)
    assert load_endpoint(app, endpoint.id).state is EndpointState.DISABLED
    with app.app_context():
        set_state(endpoint.id, "enabled", actor=Actor("admin"))

    def all_delivered():
        # A delivery whose retry is not due yet is deferred to the delay queue, which one drain may not see.
        drain(broker, worker)
        return all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in ids)

    assert wait_until(all_delivered, message=lambda: {i: load(app, i).status for i in ids})


def test_an_alert_without_channels_is_still_recorded(app, make_endpoint, receiver):
    from app.alerts import send_alert

    endpoint = make_endpoint()
    with app.app_context():
        assert send_alert("failing", endpoint.id, "5 attempts in a row failed") == []
        entry = db.session.query(AuditEntry).filter_by(action="alert.failing").one()
        assert "no channel" in entry.summary


def test_first_attempt_of_a_disabled_endpoint_is_not_made(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, Endpoint, endpoint.id, state=EndpointState.DISABLED)
    with app.app_context():
        assert attempt_delivery(delivery_id) is None
    assert receiver.requests == []
