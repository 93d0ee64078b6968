import json

from app.audit import SYSTEM
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.attempt.sender import _delivery_control
from app.delivery.endpoints.service import set_state
from app.extensions import db
from app.models import AuditEntry, DeliveryStatus, EndpointState
from tests.support.factories import load, load_endpoint, send, send_many
from tests.support.receiver import Reply


def attempt(app, delivery_id):
    with app.app_context():
        return attempt_delivery(delivery_id)


def drain(broker, worker):
    for queue in ("webhooks", "alerts"):
        broker.join(queue)
    worker.join()


def test_delivery_control_is_read_case_insensitively_and_unknown_values_are_ignored():
    assert [_delivery_control(v) for v in ("abort", " Abort ", "DISABLE", "stop", "", None, "abort, disable")] == [
        "abort", "abort", "disable", None, None, None, None]


def test_abort_ends_the_retries_of_a_failing_delivery(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(503, b"down for good", headers={"Webhook-Delivery": "ABORT"}))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    (record,) = delivery.attempts_list
    assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.last_error == "receiver asked to stop: HTTP 503 Service Unavailable"
    assert record.error == delivery.last_error and record.will_retry is False and record.next_attempt_at is None
    assert attempt(app, delivery_id) is None and len(receiver.requests) == 1  # nothing more is attempted


def test_abort_is_shown_in_the_monitor_and_the_attempt_log(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(500, headers={"webhook-delivery": "abort"}))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    staff("viewer")
    assert "receiver asked to stop" in client.get("/admin/", query_string={"status": "failed"}).get_data(as_text=True)
    assert "receiver asked to stop" in client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)


def test_abort_on_a_success_or_other_values_change_nothing(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.reply(Reply(200, headers={"webhook-delivery": "abort"}), Reply(503, headers={"webhook-delivery": "stop"}))
    ok, retried = send_many(app, 2)
    attempt(app, ok)
    attempt(app, retried)
    assert load(app, ok).status is DeliveryStatus.SUCCEEDED
    delivery = load(app, retried)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts_list[0].will_retry
    assert load_endpoint(app, endpoint.id).state is EndpointState.ENABLED


def test_disable_pauses_the_endpoint_audited_and_alerted(app, make_endpoint, receiver, alerts, broker, worker):
    notified, smtp = alerts
    endpoint = make_endpoint(name="Warehouse")
    receiver.reply(Reply(200), Reply(200, headers={"webhook-delivery": "Disable"}))
    for _ in range(2):  # the first makes the endpoint healthy: PostgreSQL then records a plain success alone
        _, (second,) = send(app)
        drain(broker, worker)
    paused = load_endpoint(app, endpoint.id)
    assert paused.state is EndpointState.PAUSED and paused.state_changed_by == "receiver"
    assert "webhook-delivery: disable" in paused.state_reason
    assert load(app, second).status is DeliveryStatus.SUCCEEDED  # what it answered still counts
    _, (waiting,) = send(app)
    assert attempt(app, waiting) is None and load(app, waiting).status is DeliveryStatus.PENDING
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["endpoint.paused"]
    assert [m["Subject"] for m in smtp.messages] == ["[Hookyard] Endpoint Warehouse was paused by its receiver"]
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="endpoint.pause").all()
        assert entry.actor == "receiver" and entry.after["state"] == "paused" and entry.target_ids == [endpoint.id]


def test_disable_on_a_failure_keeps_the_delivery_for_after_the_resume(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.reply(Reply(503, headers={"webhook-delivery": "disable"}))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    assert load_endpoint(app, endpoint.id).state is EndpointState.PAUSED
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts_list[0].will_retry


def test_an_endpoint_its_receiver_paused_is_in_every_page_summary_and_one_staff_paused_is_not(
        app, client, staff, make_endpoint, receiver):
    asked = make_endpoint(name="Warehouse")
    quiet = make_endpoint(name="Printer", url=receiver.url("/printer"))
    receiver.reply(Reply(503, headers={"webhook-delivery": "disable"}))
    _, (delivery_id,) = send(app, endpoint_ids=[asked.id])
    attempt(app, delivery_id)
    with app.app_context():
        set_state(quiet.id, EndpointState.PAUSED, actor=SYSTEM, reason="maintenance window")
        db.session.commit()
    staff("viewer")
    html = client.get("/admin/").get_data(as_text=True)
    assert "1 paused by its receiver; 1 delivery waiting" in html
    assert 'data-banner="endpoint-paused"' in html and "Warehouse</a>" in html and "webhook-delivery: disable" in html
    assert "Printer</a>" not in html.split('data-banner="summary"')[1].split("</details>")[0]
