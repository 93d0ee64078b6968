"""The gateway through real HTTP on 127.0.0.1: a signed Shopify webhook to a forwarding source is delivered to the
internal receiver exactly once, also after a duplicate request and a replay. Runs on the broker the tests use
(in-memory by default, Redis with TEST_REDIS_URL) with a real Dramatiq worker."""

import json

import requests
from sqlalchemy import func, select

import tasks.deliveries  # noqa: F401  declares the actors the worker runs
import tasks.inbound  # noqa: F401
from app.extensions import db
from app.models import Delivery, InboundEvent, InboundStatus, Message
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET
from tests.support.live import serving
from tests.support.waiting import wait_until

ORDER = {"id": 820982911946154508, "order_number": 1005, "line_items": [{"sku": "WARRANTY-1", "quantity": 1}]}
BODY = signing.body_of(ORDER)


def settle(broker, worker):
    """Let the worker finish every inbound processing and the deliveries they made."""
    for queue in ("inbound", "webhooks", "inbound", "webhooks"):
        broker.join(queue)
    worker.join()


def event_row(app, event_id):
    with app.app_context():
        event = db.session.get(InboundEvent, event_id)
        return event.status, event.attempts, event.forwarded_message_id, event.duplicate_count


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_forwarded_shopify_webhook_is_delivered_once_despite_a_duplicate_and_a_replay(
        app, make_source, make_endpoint, receiver, auth, broker, worker):
    make_endpoint(event_types=["inbound.shop.*"])
    make_source("shop", forward=True)
    headers = signing.shopify(SHOPIFY_SECRET, BODY, webhook_id="wh-gateway-1", topic="orders/fulfilled")

    with serving(app) as url:
        # Given a signed Shopify orders/fulfilled webhook to a forwarding source
        first = requests.post(f"{url}/inbound/shop", data=BODY, headers=headers, timeout=30)
        assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
        event_id = first.json()["id"]
        settle(broker, worker)

        # Then the internal receiver gets it once, as an outbound message inbound.shop.orders.fulfilled carrying the
        # body
        (request,) = receiver.wait_for(1)
        assert json.loads(request.body) == ORDER
        status, attempts, message_id, _ = event_row(app, event_id)
        assert (status, attempts) == (InboundStatus.PROCESSED, 1) and message_id
        with app.app_context():
            message = db.session.get(Message, message_id)
            assert message.event_type == "inbound.shop.orders.fulfilled"

        # When Shopify repeats the same delivery, it is answered 200 and nothing more is sent
        again = requests.post(f"{url}/inbound/shop", data=BODY, headers=headers, timeout=30)
        assert again.json() == {"status": "duplicate", "id": event_id}
        settle(broker, worker)
        assert event_row(app, event_id)[1:] == (1, message_id, 1)

        # When staff replay the event, it is processed again and still delivered only once
        replay = requests.post(f"{url}/api/v1/inbound-events/{event_id}/replay", json={}, headers=auth, timeout=30)
        assert replay.status_code == 202, replay.text
        settle(broker, worker)
        wait_until(lambda: event_row(app, event_id)[:2] == (InboundStatus.PROCESSED, 2), 10,
                   message=lambda: str(event_row(app, event_id)))
        assert event_row(app, event_id)[2] == message_id
        detail = requests.get(f"{url}/api/v1/inbound-events/{event_id}", headers=auth, timeout=30).json()
        assert [(a["trigger"], a["outcome"]) for a in detail["attempts"]] == [
            ("received", "processed"), ("replay", "processed")]

    assert (count(app, Message), count(app, Delivery), len(receiver.requests)) == (1, 1, 1)


def test_a_forwarded_event_reaches_only_endpoints_subscribed_to_the_inbound_namespace(
        app, make_source, make_endpoint, receiver, broker, worker):
    # Given a producer's endpoints (order.*, everything, no filter) and one that asks for forwarded order events
    for path, event_types in (("/orders", ["order.*"]), ("/all", ["*"]), ("/unfiltered", None),
                              ("/forwarded", ["inbound.order.*"])):
        make_endpoint(receiver.url(path), event_types=event_types)
    make_source("order", forward=True)
    body = signing.body_of({"id": 1, "total": "0.00"})

    with serving(app) as url:
        # When a webhook signed with the source's secret arrives with topic "created"
        answer = requests.post(f"{url}/inbound/order", data=body, timeout=30,
                               headers=signing.shopify(SHOPIFY_SECRET, body, webhook_id="wh-ns", topic="created"))
        assert answer.status_code == 200, answer.text
        settle(broker, worker)

        # Then it becomes inbound.order.created, never order.created, and only the subscribed endpoint gets it
        (request,) = receiver.wait_for(1)
        assert request.path == "/forwarded" and request.headers["webhook-signature"]
    with app.app_context():
        assert db.session.scalars(select(Message.event_type)).all() == ["inbound.order.created"]
    assert (count(app, Delivery), len(receiver.requests)) == (1, 1)
