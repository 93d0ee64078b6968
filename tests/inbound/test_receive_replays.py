"""A captured Shopify or GitHub request sent again under a fresh delivery id (the signature covers the body only) is
a duplicate of the first copy for 24 hours, also when many copies arrive at once; after that the body is a new
event. Providers that sign their id are deduplicated on it alone."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from app.extensions import db
from app.models import utcnow
from app.models.inbound import InboundEvent, Provider
from tests.inbound import signing
from tests.inbound.conftest import GITHUB_SECRET, SHOPIFY_SECRET, STANDARD_SECRET
from tests.support.live import serving

#: app.inbound.replays.REPLAY_WINDOW, as the issue asked for it.
WINDOW = timedelta(hours=24)
BODY = signing.body_of({"id": 5123, "order_number": 1001, "total_price": "10.00"})
PROVIDERS = {"shopify": (Provider.SHOPIFY, lambda body, new_id: signing.shopify(SHOPIFY_SECRET, body,
                                                                                   webhook_id=new_id)),
             "github": (Provider.GITHUB, lambda body, new_id: signing.github(GITHUB_SECRET, body, delivery=new_id))}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_captured_body_replayed_under_a_fresh_delivery_id_is_a_duplicate(client, make_source, stored, enqueued,
                                                                           provider):
    kind, sign = PROVIDERS[provider]
    make_source("src", kind)
    first = client.post("/inbound/src", data=BODY, headers=sign(BODY, "id-captured"))
    assert first.json["status"] == "accepted"

    replay = client.post("/inbound/src", data=BODY, headers=sign(BODY, "id-forged-1"))

    assert replay.status_code == 200 and replay.json == {"status": "duplicate", "id": first.json["id"]}
    (event,) = stored.events()
    expected_id = signing.shopify_id("id-captured") if kind is Provider.SHOPIFY else "id-captured"
    assert (event.provider_event_id, event.duplicate_count) == (expected_id, 1)
    assert enqueued == [(event.id, "received")]
    assert (stored.count("src", "received"), stored.count("src", "duplicate")) == (1, 1)
    # another body is another event
    other = signing.body_of({"id": 5124})
    assert client.post("/inbound/src", data=other, headers=sign(other, "id-2")).json["status"] == "accepted"


def test_the_same_body_after_the_replay_window_is_a_new_event(app, client, make_source, stored):
    make_source("shop")
    first = client.post("/inbound/shop", data=BODY, headers=signing.shopify(SHOPIFY_SECRET, BODY, webhook_id="a"))
    with app.app_context():
        db.session.execute(update(InboundEvent).values(
            received_at=utcnow() - WINDOW - timedelta(minutes=1)))
        db.session.commit()

    later = client.post("/inbound/shop", data=BODY, headers=signing.shopify(SHOPIFY_SECRET, BODY, webhook_id="b"))

    assert later.status_code == 200 and later.json["status"] == "accepted", later.json
    events = {e.id: e for e in stored.events()}
    assert set(events) == {first.json["id"], later.json["id"]}
    assert events[first.json["id"]].body_digest is None  # forgotten: the new copy holds it for the next 24 h
    again = client.post("/inbound/shop", data=BODY, headers=signing.shopify(SHOPIFY_SECRET, BODY, webhook_id="c"))
    assert again.json == {"status": "duplicate", "id": later.json["id"]}


def test_a_provider_that_signs_its_id_is_deduplicated_on_the_id_alone(client, make_source, stored):
    make_source("std", Provider.STANDARD)
    answers = [client.post("/inbound/std", data=BODY, headers=signing.standard(STANDARD_SECRET, BODY, msg_id=i))
               for i in ("msg_1", "msg_2")]
    assert [a.json["status"] for a in answers] == ["accepted", "accepted"]
    assert len(stored.events()) == 2


def test_many_replays_at_once_under_fresh_ids_store_one_event(app, make_source, stored):
    make_source("shop")
    with serving(app) as url:
        def post(number):
            return requests.post(f"{url}/inbound/shop", data=BODY, timeout=30,
                                 headers=signing.shopify(SHOPIFY_SECRET, BODY, webhook_id=f"wh-{number}")).json()

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, range(40)))

    assert sorted(a["status"] for a in answers) == ["accepted"] + ["duplicate"] * 39, answers
    (event,) = stored.events()
    assert event.duplicate_count == 39 and {a["id"] for a in answers} == {event.id}
