"""Replay, resend with an edited payload and resolve through the API, with the staff's limits per key."""

import json

from sqlalchemy import select

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryAttempt, Message
from app.staff.settings import set_setting
from tests.support.factories import load, send
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

ADMIN = Actor("admin@example.com")


def _succeeded(app, receiver, **message):
    _, (delivery_id,) = send(app, **message)
    with app.app_context():
        attempt_delivery(delivery_id)  # where a worker runs, it may have claimed it first and still be sending
    wait_for_status(app, delivery_id, "succeeded")
    return delivery_id


def wait_for_status(app, delivery_id, status):
    """Wait until the delivery's recorded status is status (a worker may still be on it)."""
    wait_until(lambda: load(app, delivery_id).status.value == status,
               message=lambda: f"{delivery_id} is {load(app, delivery_id).status.value}, not {status}")


def test_replay_sends_a_succeeded_delivery_again_through_the_worker(app, client, auth, make_endpoint, receiver,
                                                                     worker):
    make_endpoint()
    delivery_id = _succeeded(app, receiver, payload={"qr": "ABCD1234"})
    response = client.post(f"/api/v1/deliveries/{delivery_id}/replay", headers=auth)
    assert response.status_code == 202  # the worker may already be sending it when the answer is built
    assert response.json["status"] in ("pending", "sending", "succeeded")
    requests = receiver.wait_for(2)
    assert json.loads(requests[1].body) == {"qr": "ABCD1234"}
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]  # the same webhook, again

    def replayed():
        delivery = load(app, delivery_id)
        return delivery.attempt_count == 2 and delivery.status.value == "succeeded"

    wait_until(replayed, message=lambda: f"{delivery_id} is {load(app, delivery_id).status.value}")
    with app.app_context():
        second = db.session.scalar(select(DeliveryAttempt).where(DeliveryAttempt.number == 2))
        assert (second.trigger.value, second.triggered_by) == ("replay", "api:tests")


def test_a_failed_replay_leaves_the_delivery_failed(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    delivery_id = _succeeded(app, receiver)
    client.post(f"/api/v1/deliveries/{delivery_id}/replay", headers=auth)
    receiver.reply(Reply(500))
    with app.app_context():
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status.value == "failed" and delivery.attempts_list[-1].trigger.value == "replay"


def test_api_retries_and_replays_have_the_cooldown_and_the_hourly_cap(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    receiver.default = Reply(404)
    ids = []
    for _ in range(3):
        _, (delivery_id,) = send(app)
        with app.app_context():
            attempt_delivery(delivery_id)
        ids.append(delivery_id)
    assert client.post(f"/api/v1/deliveries/{ids[0]}/retry", headers=auth).status_code == 202
    again = client.post(f"/api/v1/deliveries/{ids[0]}/replay", headers=auth)
    assert again.status_code == 409 and "cooldown" in again.json["error"]  # one per delivery every 5 minutes

    with app.app_context():
        set_setting("retry_hourly_cap", 2, actor=ADMIN)
    assert client.post(f"/api/v1/deliveries/{ids[1]}/replay", headers=auth).status_code == 202
    refused = client.post(f"/api/v1/deliveries/{ids[2]}/retry", headers=auth)
    assert refused.status_code == 429 and "2 of 2 retry actions" in refused.json["error"]
    assert load(app, ids[2]).status.value == "failed"  # nothing changed


def test_resend_sends_the_edited_payload_as_a_linked_message_with_the_diff_audited(app, client, auth,
                                                                                    make_endpoint, receiver):
    endpoint = make_endpoint()
    make_endpoint(name="Other")  # also subscribed, but a resend goes only to the delivery's endpoint
    receiver.default = Reply(422)
    message_id, (delivery_id, _) = send(app, payload={"order": {"id": 1002, "total": 10}}, reference="#1002")
    edited = {"order": {"id": 1002, "total": 12, "currency": "EUR"}}
    response = client.post(f"/api/v1/deliveries/{delivery_id}/resend", headers=auth, json={"payload": edited})
    assert response.status_code == 202
    body = response.json
    assert body["resent_from_id"] == message_id and body["payload"] == edited and body["reference"] == "#1002"
    assert [d["endpoint_id"] for d in body["deliveries"]] == [endpoint.id]
    with app.app_context():
        assert json.loads(db.session.get(Message, message_id).payload) == {"order": {"id": 1002, "total": 10}}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.resend"))
        assert entry.before == {"payload": {"order.total": 10, "order.currency": None}}
        assert entry.after == {"payload": {"order.total": 12, "order.currency": "EUR"}}
        assert message_id in entry.target_ids and body["id"] in entry.target_ids


def test_bad_resend_and_resolve_input_changes_nothing(app, client, auth, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app)
    for body in ({"payload": [1]}, {"payload": "x"}, {}):
        assert client.post(f"/api/v1/deliveries/{delivery_id}/resend", headers=auth, json=body).status_code == 422
    assert client.post(f"/api/v1/deliveries/{delivery_id}/resend", headers=auth, data="{nope").status_code == 400
    assert client.post("/api/v1/deliveries/dlv_nope/resend", headers=auth,
                       json={"payload": {}}).status_code == 404
    assert client.post(f"/api/v1/deliveries/{delivery_id}/resolve", headers=auth, json={"note": ""}).status_code == 422
    pending = client.post(f"/api/v1/deliveries/{delivery_id}/resolve", headers=auth, json={"note": "done"})
    assert pending.status_code == 409  # only failed deliveries are resolved
    with app.app_context():
        assert db.session.query(Message).count() == 1
        assert db.session.get(Delivery, delivery_id).resolved_at is None


def test_resolve_keeps_the_status_failed_and_a_replay_clears_it(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    receiver.default = Reply(400)
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    response = client.post(f"/api/v1/deliveries/{delivery_id}/resolve", headers=auth,
                           json={"note": "partner fixed it by hand"})
    assert response.status_code == 200
    assert (response.json["status"], response.json["resolved_by"]) == ("failed", "api:tests")
    assert response.json["resolved_note"] == "partner fixed it by hand"
    assert client.get("/api/v1/stats", headers=auth).json["deliveries"]["failed"] == 1  # still one of the five
    client.post(f"/api/v1/deliveries/{delivery_id}/replay", headers=auth)
    delivery = load(app, delivery_id)
    assert delivery.status.value == "pending" and delivery.resolved_at is None and delivery.resolved_note is None
