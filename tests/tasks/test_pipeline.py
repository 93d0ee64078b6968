import json

from standardwebhooks import Webhook

from app.models import AttemptTrigger, Delivery, DeliveryStatus
from tasks.deliveries import deliver_webhook


def drain(broker, worker):
    broker.join(deliver_webhook.queue_name)
    worker.join()


def test_message_posted_to_api_reaches_receiver_signed(app, client, auth, make_endpoint, receiver, broker, worker, db):
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
