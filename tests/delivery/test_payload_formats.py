"""Per-endpoint payload formats, end to end: a message posted to the API, sent by the worker to a real receiver,
which verifies the Standard Webhooks signature over the bytes it received."""

import json
from urllib.parse import parse_qsl

import pytest
from standardwebhooks import Webhook

from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryAttempt, DeliveryStatus, ErrorClass
from tasks.deliveries import deliver_webhook
from tests.support.factories import load
from tests.support.waiting import wait_until

EVENT = {"event_type": "order.created", "reference": "#1001", "tags": ["ABCD1234", "gid://shopify/Order/7"],
         "payload": {"order": {"id": 1001, "total": "59.00"},
                     "customer": {"email": "ada@example.com", "first_name": "Ada", "vip": True}}}
FORM = "application/x-www-form-urlencoded"


def drain(broker, worker):
    broker.join(deliver_webhook.queue_name)
    worker.join()


def create(client, auth, receiver, **settings):
    response = client.post("/api/v1/endpoints", headers=auth, json={"url": receiver.url(), **settings})
    assert response.status_code == 201, response.json
    return response.json


def post_event(client, auth, event=EVENT):
    response = client.post("/api/v1/messages", headers=auth, json=event)
    assert response.status_code == 202, response.json
    return response.json


def received_verified(receiver, endpoint, *, as_json=True):
    """The one request received, its signature verified over the exact bytes received."""
    (request,) = receiver.wait_for(1)
    Webhook(endpoint["secret"]).verify(request.body, request.headers)  # raises on a bad signature
    if as_json:
        return request, json.loads(request.body)
    return request, dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def test_zapier_preset_is_one_flat_object_signed_as_sent(client, auth, receiver, broker, worker):
    endpoint = create(client, auth, receiver, payload_format="zapier")
    message = post_event(client, auth)
    drain(broker, worker)
    request, body = received_verified(receiver, endpoint)
    assert request.headers["Content-Type"] == "application/json"
    assert body == {"id": message["id"], "type": "order.created", "timestamp": body["timestamp"],
                    "reference": "#1001", "tags": "ABCD1234,gid://shopify/Order/7",
                    "data__order__id": 1001, "data__order__total": "59.00",
                    "data__customer__email": "ada@example.com", "data__customer__first_name": "Ada",
                    "data__customer__vip": True}
    assert body["timestamp"].startswith(message["created_at"][:19])


def test_make_preset_is_the_same_envelope_for_every_event(client, auth, receiver, broker, worker):
    endpoint = create(client, auth, receiver, payload_format="make")
    message = post_event(client, auth)
    drain(broker, worker)
    _, body = received_verified(receiver, endpoint)
    assert body == {"type": "order.created", "id": message["id"], "timestamp": body["timestamp"],
                    "reference": "#1001", "tags": EVENT["tags"], "data": EVENT["payload"]}


def test_convertkit_preset_is_a_kit_subscriber(client, auth, receiver, broker, worker):
    endpoint = create(client, auth, receiver, payload_format="convertkit",
                      headers={"X-Kit-Api-Key": "kit_secret_key"})
    post_event(client, auth)
    drain(broker, worker)
    request, body = received_verified(receiver, endpoint)
    assert body == {"email_address": "ada@example.com", "first_name": "Ada", "state": "active",
                    "fields": {"order_id": "1001", "order_total": "59.00", "customer_vip": "true"}}
    assert request.headers["X-Kit-Api-Key"] == "kit_secret_key"


def test_preset_sent_as_a_form_is_signed_over_the_form_bytes(client, auth, receiver, broker, worker):
    endpoint = create(client, auth, receiver, payload_format="make", payload_content_type=FORM)
    post_event(client, auth)
    drain(broker, worker)
    (request,) = receiver.wait_for(1)
    assert request.headers["Content-Type"] == FORM
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers, json_parse=False) is None
    fields = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    assert fields["type"] == "order.created" and fields["reference"] == "#1001"
    assert json.loads(fields["data"]) == EVENT["payload"] and json.loads(fields["tags"]) == EVENT["tags"]


def test_template_is_rendered_signed_sent_and_recorded(app, client, auth, receiver, broker, worker):
    template = ('{"order_ref": {{ data.order | tojson }}, "event": {{ type | tojson }}, "msg": {{ id | tojson }},'
                ' "qr": {{ tags[0] | tojson }}, "ref": {{ reference | tojson }}}')
    endpoint = create(client, auth, receiver, payload_format="template", payload_template=template)
    message = post_event(client, auth)
    drain(broker, worker)
    request, body = received_verified(receiver, endpoint)
    assert body == {"order_ref": {"id": 1001, "total": "59.00"}, "event": "order.created", "msg": message["id"],
                    "qr": "ABCD1234", "ref": "#1001"}
    detail = client.get(f"/api/v1/deliveries/{message['deliveries'][0]['id']}", headers=auth).json
    (attempt,) = detail["attempts"]
    assert attempt["request_body"] == request.body.decode() and attempt["response_status"] == 200


def test_form_template_is_sent_as_written(client, auth, receiver, broker, worker):
    endpoint = create(client, auth, receiver, payload_format="template", payload_content_type=FORM,
                      payload_template="order={{ data.order.id }}&email={{ data.customer.email | urlencode }}")
    post_event(client, auth)
    drain(broker, worker)
    (request,) = receiver.wait_for(1)
    assert request.body == b"order=1001&email=ada%40example.com"
    assert request.headers["Content-Type"] == FORM
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers, json_parse=False) is None


def test_template_failing_for_a_payload_is_a_config_attempt_not_retried(app, client, auth, receiver, broker,
                                                                      worker):
    create(client, auth, receiver, payload_format="template",
           payload_template='{"id": {{ data.order.id | tojson }}}')
    message = post_event(client, auth, {"event_type": "order.created", "payload": {"refund": 1}})
    drain(broker, worker)
    delivery_id = message["deliveries"][0]["id"]
    wait_until(lambda: load(app, delivery_id).status is DeliveryStatus.FAILED)
    delivery = load(app, delivery_id)
    (attempt,) = delivery.attempts_list
    assert (attempt.trigger, attempt.error_class, attempt.will_retry) == (AttemptTrigger.SCHEDULED,
                                                                         ErrorClass.CONFIG, False)
    assert attempt.error == "payload format template: 'dict object' has no attribute 'order'"
    assert attempt.response_status is None and attempt.request_body is None
    assert receiver.requests == []


def test_template_whose_output_is_not_json_fails_with_a_hint(app, client, auth, receiver, broker, worker):
    create(client, auth, receiver, payload_format="template", payload_template='{"ref": {{ reference }}}')
    message = post_event(client, auth)
    drain(broker, worker)
    delivery = load(app, message["deliveries"][0]["id"])
    (attempt,) = delivery.attempts_list
    assert attempt.error_class is ErrorClass.CONFIG and "not JSON" in attempt.error and "| tojson" in attempt.error
    assert delivery.status is DeliveryStatus.FAILED and receiver.requests == []


def test_standard_endpoint_sends_the_payload_as_it_is_and_records_no_copy(app, client, auth, receiver, broker,
                                                                        worker):
    endpoint = create(client, auth, receiver)
    assert endpoint["payload_format"] == "standard"
    message = post_event(client, auth)
    drain(broker, worker)
    request, body = received_verified(receiver, endpoint)
    assert body == EVENT["payload"] and request.headers["Content-Type"] == "application/json"
    with app.app_context():
        (attempt,) = db.session.query(DeliveryAttempt).filter_by(
            delivery_id=message["deliveries"][0]["id"]).all()
        assert attempt.request_body is None


@pytest.mark.parametrize("payload_format", ["zapier", "make", "template"])
def test_each_retry_sends_the_same_bytes(app, client, auth, receiver, broker, worker, payload_format):
    from tests.support.receiver import Reply

    settings = {"payload_template": '{"o": {{ data.order.id | tojson }}}'} if payload_format == "template" else {}
    endpoint = create(client, auth, receiver, payload_format=payload_format, **settings)
    receiver.reply(Reply(503, headers={"Retry-After": "0"}))
    message = post_event(client, auth)
    drain(broker, worker)
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    for request in (first, second):
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    with app.app_context():
        delivery = db.session.get(Delivery, message["deliveries"][0]["id"])
        assert [a.request_body for a in delivery.attempts] == [first.body.decode()] * 2
