"""Operational webhooks end to end: Hookyard's own events reach a real receiver through the delivery engine,
signed so that the standardwebhooks library verifies them."""

import json

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from app.delivery import operational
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from tests.support.factories import send, update
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_until


@pytest.fixture
def ops_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def operational_endpoint(client, auth, ops_receiver):
    """Create an operational endpoint through the API; return a function taking its event types."""

    def create(event_types=None):
        body = {"url": ops_receiver.url("/ops")}
        if event_types is not None:
            body["event_types"] = event_types
        response = client.post("/api/v1/operational-endpoints", json=body, headers=auth)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


def drain(broker, worker):
    for _ in range(2):  # an operational event is written while the first round is recorded
        for queue in ("webhooks", "alerts", "jobs"):
            broker.join(queue)
        worker.join()


def verified(request, secret):
    """The event's body, once its Standard Webhooks signature is verified."""
    return Webhook(secret).verify(request.body, request.headers)


def events(app, endpoint_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.endpoint_id == endpoint_id))


def test_a_final_failure_posts_a_signed_delivery_failed_event(app, make_endpoint, receiver, ops_receiver,
                                                              operational_endpoint, broker, worker):
    ops = operational_endpoint(["delivery.failed"])
    partner = make_endpoint(name="OnlyPerf", max_attempts=1)
    receiver.default = Reply(422, b'{"error": "unknown SKU"}')
    _, (delivery_id,) = send(app, reference="#1005")
    drain(broker, worker)
    (request,) = ops_receiver.wait_for(1)
    event = verified(request, ops["secret"])
    assert event["type"] == "delivery.failed" and event["timestamp"]
    data = event["data"]
    assert data["delivery"]["id"] == delivery_id and data["delivery"]["reference"] == "#1005"
    assert data["delivery"]["status"] == "failed" and data["delivery"]["response_status"] == 422
    assert data["endpoint"] == {"id": partner.id, "name": "OnlyPerf", "url": partner.url}
    assert data["delivery"]["last_error"]
    with app.app_context():  # sent through the engine: a delivery with its attempt, as the monitor shows it
        sent = db.session.scalars(select(Delivery).where(Delivery.endpoint_id == ops["id"])).one()
        assert sent.status is DeliveryStatus.SUCCEEDED and sent.event_type == "delivery.failed"
        assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)
                                 .where(DeliveryAttempt.delivery_id == sent.id)) == 1


def test_a_success_posts_delivery_succeeded_only_when_asked(app, make_endpoint, receiver, ops_receiver,
                                                            operational_endpoint, broker, worker):
    ops = operational_endpoint(["delivery.succeeded"])
    make_endpoint()
    _, (delivery_id,) = send(app, reference="A-1")
    drain(broker, worker)
    (request,) = ops_receiver.wait_for(1)
    event = verified(request, ops["secret"])
    assert event["type"] == "delivery.succeeded" and event["data"]["delivery"]["id"] == delivery_id


def test_breaker_transitions_post_endpoint_failing_then_recovered(app, make_endpoint, receiver, ops_receiver,
                                                                  operational_endpoint, broker, worker):
    ops = operational_endpoint(["endpoint.failing", "endpoint.recovered"])
    partner = make_endpoint(max_attempts=1)
    receiver.default = Reply(503)
    for _ in range(app.config["WEBHOOK_BREAKER_THRESHOLD"] + 1):
        send(app)
        drain(broker, worker)
        update(app, Endpoint, partner.id, breaker_open_until=None)  # let every attempt through
    ops_receiver.wait_for(1)
    receiver.default = Reply(200)
    send(app)
    drain(broker, worker)
    requests = ops_receiver.wait_for(2)
    bodies = [verified(r, ops["secret"]) for r in requests]
    assert [b["type"] for b in bodies] == ["endpoint.failing", "endpoint.recovered"]
    failing = bodies[0]["data"]
    assert failing["endpoint"]["id"] == partner.id and failing["endpoint"]["consecutive_failures"] >= 5
    assert "in a row failed" in failing["reason"]


def test_a_failing_operational_endpoint_announces_nothing_about_itself(app, make_endpoint, receiver, ops_receiver,
                                                                       operational_endpoint, broker, worker):
    ops = operational_endpoint()  # every event type
    ops_receiver.default = Reply(400)  # every event to it fails for good
    partner = make_endpoint(max_attempts=1)
    receiver.default = Reply(400)
    rounds = app.config["WEBHOOK_BREAKER_THRESHOLD"] + 1
    for _ in range(rounds):
        send(app)
        drain(broker, worker)
    ops_receiver.wait_for(rounds + 1)
    drain(broker, worker)
    # One event per partner failure and the partner's endpoint.failing; none about the operational endpoint's
    # own failures nor its own health, though it failed as often.
    bodies = [json.loads(r.body) for r in ops_receiver.requests]
    assert sorted(b["type"] for b in bodies) == ["delivery.failed"] * rounds + ["endpoint.failing"]
    assert {b["data"]["endpoint"]["id"] for b in bodies} == {partner.id}
    assert events(app, ops["id"]) == rounds + 1
    with app.app_context():
        assert db.session.get(Endpoint, ops["id"]).consecutive_failures == rounds + 1


def test_nothing_is_written_when_no_operational_endpoint_listens(app, make_endpoint, receiver, broker, worker):
    operational.forget()
    make_endpoint(max_attempts=1)
    receiver.default = Reply(400)
    send(app)
    drain(broker, worker)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_partner_messages_never_reach_an_operational_endpoint(app, operational_endpoint, ops_receiver):
    ops = operational_endpoint()
    _, deliveries = send(app, "delivery.failed")  # a producer's own event named like an operational one
    assert deliveries == []
    assert events(app, ops["id"]) == 0


def test_every_final_failure_alerts_once_a_quiet_period(app, make_endpoint, receiver, alerts, broker, worker):
    notified, smtp = alerts
    make_endpoint(name="Shop", max_attempts=1, alert_on_failure=True)
    receiver.default = Reply(400)
    send(app, reference="#1005")
    drain(broker, worker)
    wait_until(lambda: len(smtp.messages) == 1)
    (mail,) = smtp.messages
    assert mail["Subject"] == "[Hookyard] Endpoint Shop has a delivery that failed for good"
    assert "(#1005) failed for good" in mail.get_payload(decode=True).decode()
    send(app, reference="#1006")  # within the quiet period: no second alert
    drain(broker, worker)
    assert len(smtp.messages) == 1
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["endpoint.final_failure"]


def test_operational_events_are_not_held_to_the_producers_event_catalog(app, client, auth, make_endpoint, receiver,
                                                                       ops_receiver, operational_endpoint, broker,
                                                                       worker):
    # A shop that refuses event types outside its catalog still hears Hookyard's own events (not in its catalog)
    app.config["EVENT_CATALOG_REQUIRED"] = True
    ops = operational_endpoint(["delivery.failed"])
    client.put("/api/v1/event-types/order.created", json={"description": "An order", "schema": {"type": "object"}},
               headers=auth)
    make_endpoint(max_attempts=1)
    receiver.default = Reply(422)
    _, (delivery_id,) = send(app, reference="#1005")
    drain(broker, worker)
    (request,) = ops_receiver.wait_for(1)
    assert verified(request, ops["secret"])["data"]["delivery"]["id"] == delivery_id
