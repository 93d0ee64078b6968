"""PostgreSQL: a slot stops draining when the record of its last success finds nothing more to claim
(fair.nothing_more), instead of claiming again for nothing; never when that could leave a due delivery unclaimed."""

import threading

import pytest

from app.delivery.attempt import fair, pipeline
from app.models import DeliveryStatus
from tests.conftest import USING_POSTGRES
from tests.support.factories import load, send, send_many
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="SQLite records through the session and claims again")


@pytest.fixture
def claims(app, monkeypatch):
    """Every fair claim made from now on, as the number of deliveries it took; endpoints made before it have had a
    success (a success to an endpoint without one records its health: not the one-statement record)."""
    send_many(app, 1)
    with app.app_context():
        pipeline.drain(limit=20)
    taken, real = [], fair.claim_next

    def claim_next(limit):
        claimed, more = real(limit)
        taken.append(len(claimed))
        return claimed, more

    monkeypatch.setattr(fair, "claim_next", claim_next)
    return taken


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint()


def test_a_lone_webhook_takes_one_claim(app, endpoint, receiver, claims):
    _, (delivery_id,) = send(app)
    with app.app_context():
        pipeline.drain([delivery_id], limit=20)
    assert claims == [1]
    assert load(app, delivery_id).status is DeliveryStatus.SUCCEEDED


@pytest.fixture
def endpoints(make_endpoint):
    return make_endpoint(event_types=["a.*", "order.*"]), make_endpoint(event_types=["b.*", "order.*"])


@pytest.fixture
def single_slot(app, make_endpoint):
    # A deadline longer than the test's waits on a busy machine: the first webhook is answered when the test says.
    return make_endpoint(max_in_flight=1, timeout_seconds=app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"])


def test_what_is_due_elsewhere_is_claimed_before_stopping(app, endpoints, receiver, claims):
    ids = send_many(app, 1, "a.tick") + send_many(app, 1, "b.tick")
    with app.app_context():
        pipeline.drain(limit=20)
    assert claims == [1, 1]
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}


def test_a_webhook_committed_while_its_endpoint_is_at_its_share_is_sent_by_the_slot_holding_it(
        app, single_slot, receiver, claims):
    # One slot's share: a second slot woken for the new webhook finds the endpoint full and stops; the first, whose
    # record still counts itself in flight, finds no headroom and claims again.
    release, seen = threading.Event(), len(receiver.requests)
    receiver.answer = lambda received: release.wait(30) and None  # the first request waits for the test
    first = send_many(app, 1)
    drained = []
    slot = threading.Thread(target=lambda: drained.extend(_drain(app, first)))
    slot.start()
    try:
        wait_until(lambda: len(receiver.requests) == seen + 1, message="the first webhook was not sent")
        _, (second,) = send(app)
        assert _drain(app, [second]) == []  # the endpoint is at its share: this slot takes nothing
        receiver.answer = None
    finally:
        release.set()
        slot.join(30)
    assert sorted(result.delivery_id for result in drained) == sorted(first + [second])
    assert load(app, second).status is DeliveryStatus.SUCCEEDED


def _drain(app, hint_ids):
    with app.app_context():
        return pipeline.drain(hint_ids, limit=20)
