import json
import time

from standardwebhooks import Webhook

from app.delivery.messages import send_message
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus
from tasks.deliveries import deliver_webhook
from tests.support.factories import load, send
from tests.support.receiver import Reply


def drain(broker, worker):
    broker.join(deliver_webhook.queue_name)
    worker.join()


def test_message_posted_to_api_reaches_receiver_signed(app, client, auth, make_endpoint, receiver, broker, worker):
    endpoint = make_endpoint()
    response = client.post("/api/v1/messages", headers=auth, json={
        "event_type": "order.created", "payload": {"order": 1001}, "reference": "#1001", "tags": ["ABCD1234"],
    })
    assert response.status_code == 202
    drain(broker, worker)

    (request,) = receiver.wait_for(1)
    assert json.loads(request.body) == {"order": 1001}
    verified = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert verified == {"order": 1001}
    assert request.headers["webhook-id"] == response.json["id"]

    with app.app_context():
        delivery = db.session.get(Delivery, response.json["deliveries"][0]["id"])
        assert delivery.status is DeliveryStatus.SUCCEEDED
        attempts = [(a.number, a.trigger, a.response_status) for a in delivery.attempts]
    assert attempts == [(1, AttemptTrigger.SCHEDULED, 200)]


def test_worker_retries_on_schedule_until_success(app, client, auth, make_endpoint, receiver, broker, worker):
    make_endpoint()
    receiver.reply(Reply(500), Reply(503, headers={"Retry-After": "0"}))
    response = client.post("/api/v1/messages", headers=auth, json={"event_type": "order.paid", "payload": {}})
    delivery_id = response.json["deliveries"][0]["id"]
    drain(broker, worker)
    receiver.wait_for(3)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert [(a.number, a.response_status, a.will_retry) for a in delivery.attempts_list] == [
        (1, 500, True), (2, 503, True), (3, 200, False)]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # stable across retries


def test_duplicate_broker_messages_send_once(app, make_endpoint, receiver, broker, worker):
    make_endpoint()
    receiver.default = Reply(200, delay=0.3)
    _, (delivery_id,) = send(app)
    for _ in range(3):
        deliver_webhook.send(delivery_id)
    drain(broker, worker)
    assert len(receiver.requests) == 1
    assert len(load(app, delivery_id).attempts_list) == 1


def test_manual_retry_from_the_api_is_delivered_by_the_worker(app, client, auth, make_endpoint, receiver, broker,
                                                              worker):
    make_endpoint()
    receiver.reply(Reply(404))
    _, (delivery_id,) = send(app)
    drain(broker, worker)
    assert load(app, delivery_id).status is DeliveryStatus.FAILED
    assert client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=auth).status_code == 202
    drain(broker, worker)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.trigger for a in delivery.attempts_list] == [AttemptTrigger.SCHEDULED, AttemptTrigger.MANUAL]


def test_in_process_producer_is_delivered_after_its_commit(app, make_endpoint, receiver, broker, worker):
    make_endpoint()
    with app.app_context():
        message, _ = send_message("order.created", {"order": 7})
        time.sleep(0.3)
        assert receiver.requests == []  # not before the commit
        db.session.commit()
    drain(broker, worker)
    assert json.loads(receiver.wait_for(1)[0].body) == {"order": 7}
