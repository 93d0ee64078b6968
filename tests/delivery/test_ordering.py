"""Ordered delivery per key: each endpoint gets a key's deliveries one after another, in the order the messages were
created; a failure for good holds the rest of the key (or lets it go on, by the endpoint's policy); other keys and
messages without a key are never held up; each ordered webhook says its place in webhook-sequence."""

import json
import threading

import pytest

from app.audit import Actor
from app.delivery.attempt import fair
from app.delivery.attempt.pipeline import drain
from app.delivery.messages import send_message
from app.delivery.operations.deliveries import cancel_deliveries, resolve_deliveries, retry_deliveries
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Message
from tests.support.factories import load
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

OPS = Actor("ops@example.com", "203.0.113.9")


def _send(app, items):
    """Send (name, key) pairs in one transaction, in order; return {name: delivery id}."""
    with app.app_context():
        sent = {name: send_message("order.updated", {"name": name}, ordering_key=key, reference=name)[0]
                for name, key in items}
        db.session.commit()
        return {name: message.deliveries[0].id for name, message in sent.items()}


def _name(received):
    return json.loads(received.body)["name"]


def _failing(receiver, failures):
    """Answer 500 to the named messages, as many times as failures says ({name: times}; None: always)."""
    def answer(received):
        name = _name(received)
        if name in failures and failures[name] != 0:
            failures[name] = None if failures[name] is None else failures[name] - 1
            return Reply(status=500)
        return None
    receiver.answer = answer


def _arrivals(receiver, prefix):
    return [_name(r) for r in receiver.requests if _name(r).startswith(prefix)]


def _drain(app):
    with app.app_context():
        return drain(limit=20)


def test_a_keys_deliveries_arrive_in_order_while_an_earlier_one_is_retried(app, make_endpoint, receiver, worker):
    make_endpoint()
    _failing(receiver, {"a0": 2})  # the first of key a fails twice, then succeeds
    ids = _send(app, [(f"{key}{n}", key) for n in range(4) for key in "abc"] + [("u0", None)])

    receiver.wait_for(len(ids) + 2, timeout=60)
    wait_until(lambda: {load(app, i).status for i in ids.values()} == {DeliveryStatus.SUCCEEDED}, timeout=30,
               message="every delivery succeeded")
    assert _arrivals(receiver, "a") == ["a0", "a0", "a0", "a1", "a2", "a3"]  # a1 waited for a0's retries
    for key in "bc":
        assert _arrivals(receiver, key) == [f"{key}0", f"{key}1", f"{key}2", f"{key}3"]
    sequences = {_name(r): r.headers.get("webhook-sequence") for r in receiver.requests}
    assert [sequences[f"b{n}"] for n in range(4)] == ["1", "2", "3", "4"]  # its place in its key
    assert sequences["u0"] is None  # no key: no sequence


@pytest.mark.parametrize("policy", ["hold", "skip"])
def test_a_failure_for_good_holds_or_skips_the_rest_of_its_key_and_nothing_else(app, make_endpoint, receiver,
                                                                               policy):
    make_endpoint(max_attempts=1, ordering_failure=policy)
    _failing(receiver, {"a0": None})
    ids = _send(app, [("a0", "a"), ("b0", "b"), ("a1", "a"), ("u0", None), ("b1", "b"), ("a2", "a")])

    _drain(app)

    assert load(app, ids["a0"]).status is DeliveryStatus.FAILED
    assert _arrivals(receiver, "b") == ["b0", "b1"] and _arrivals(receiver, "u") == ["u0"]  # never held up
    if policy == "skip":
        assert _arrivals(receiver, "a") == ["a0", "a1", "a2"]
        return
    assert _arrivals(receiver, "a") == ["a0"]
    assert {load(app, ids[name]).status for name in ("a1", "a2")} == {DeliveryStatus.PENDING}
    with app.app_context():
        assert fair.claim_next(20)[0] == []  # due, but held behind a0


@pytest.mark.parametrize("action", ["retry", "resolve", "cancel"])
def test_staff_release_a_held_key(app, make_endpoint, receiver, action):
    # A head that failed for good is retried or resolved; one still retrying (pending) is cancelled.
    make_endpoint(max_attempts=1 if action != "cancel" else 3, retry_schedule=[3600])
    _failing(receiver, {"a0": 1})
    ids = _send(app, [("a0", "a"), ("a1", "a"), ("a2", "a")])
    _drain(app)
    assert _arrivals(receiver, "a") == ["a0"]

    with app.app_context():
        if action == "retry":
            outcome = retry_deliveries([ids["a0"]], actor=OPS)
        elif action == "resolve":
            outcome = resolve_deliveries([ids["a0"]], "sent by hand", actor=OPS)
        else:
            outcome = cancel_deliveries([ids["a0"]], actor=OPS)
        assert outcome.changed == [ids["a0"]]
    _drain(app)

    expected = ["a0", "a0", "a1", "a2"] if action == "retry" else ["a0", "a1", "a2"]
    assert _arrivals(receiver, "a") == expected


def test_the_console_says_what_a_held_delivery_waits_for(app, client, staff, make_endpoint, receiver):
    make_endpoint(max_attempts=1)
    _failing(receiver, {"order-1001": None})
    ids = _send(app, [("order-1001", "order-1001"), ("order-1001-paid", "order-1001")])
    _drain(app)
    head = load(app, ids["order-1001"])
    staff("viewer")

    log = client.get(f"/admin/log/{ids['order-1001-paid']}").get_data(as_text=True)
    monitor = client.get("/admin/", query_string={"q": "order-1001"}).get_data(as_text=True)

    for page in (log, monitor):
        assert f'data-waiting-for="{head.id}"' in page
        assert f"waiting for <a href=\"/admin/log/{head.id}\">#{head.ordering_sequence} (order-1001)</a>" in page


def test_concurrent_producers_of_a_key_get_distinct_increasing_sequences(app, make_endpoint):
    make_endpoint()

    def produce(worker_number):
        with app.app_context():
            for n in range(10):
                send_message("order.updated", {"w": worker_number, "n": n}, ordering_key="shared")
                db.session.commit()

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        rows = db.session.execute(db.select(Message.id, Message.ordering_sequence, Message.payload)
                                  .where(Message.ordering_key == "shared")).all()
        copied = set(db.session.execute(db.select(Delivery.ordering_key, Delivery.ordering_sequence)).all())
    sequences = sorted(row.ordering_sequence for row in rows)
    assert sequences == list(range(1, 41))  # unique, none skipped
    for worker_number in range(4):  # each producer's messages in the order it created them
        mine = sorted((json.loads(row.payload)["n"], row.ordering_sequence) for row in rows
                      if json.loads(row.payload)["w"] == worker_number)
        assert [sequence for _, sequence in mine] == sorted(sequence for _, sequence in mine)
    assert copied == {("shared", sequence) for sequence in sequences}  # the deliveries carry them


def test_a_claim_by_id_and_the_breakers_path_wait_their_turn(app, make_endpoint, receiver):
    from datetime import timedelta

    from app.delivery.attempt.pipeline import attempt_deliveries
    from app.models import Endpoint, utcnow
    from tests.support.factories import update

    endpoint = make_endpoint()
    ids = _send(app, [("a0", "a"), ("a1", "a")])
    with app.app_context():
        assert attempt_deliveries([ids["a1"]]) == []  # a0 is still pending
    update(app, Endpoint, endpoint.id, breaker_failures=5, breaker_open_until=utcnow() - timedelta(seconds=1))
    with app.app_context():  # half-open: both go through the breaker's path, one by one; a1 waits for a0
        attempt_deliveries([ids["a1"], ids["a0"]])
    assert _arrivals(receiver, "a") == ["a0"]
    _drain(app)
    assert _arrivals(receiver, "a") == ["a0", "a1"]


def test_an_endpoint_whose_due_deliveries_all_wait_their_turn_does_not_hold_up_the_next_claim(app, make_endpoint,
                                                                                               receiver):
    from app.models import Endpoint
    from tests.support.factories import update

    keyed = make_endpoint(event_types=["order.*"], max_in_flight=1)  # one slot: its claim takes both heads
    other = make_endpoint(event_types=["other.*"])
    _send(app, [("a0", "a"), ("b0", "b"), ("a1", "a"), ("b1", "b")])
    with app.app_context():
        send_message("other.tick", {"name": "o0"})
        db.session.commit()
        first, _ = fair.claim_next(20)
    update(app, Endpoint, keyed.id, max_in_flight=4)  # slots to spare, but a0 is sending and b0 reserved
    with app.app_context():
        second, _ = fair.claim_next(20)
    assert [c.endpoint_id for c in first] == [keyed.id, keyed.id]  # the heads a0 and b0; a1 and b1 wait for them
    assert [c.endpoint_id for c in second] == [other.id]
