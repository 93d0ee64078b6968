"""Fair share: the claim, not the order of broker messages, decides what is sent next; a slow endpoint holds at
most its share of worker slots, however large its backlog, and the others' webhooks go meanwhile."""

import pytest

from app.delivery.attempt import fair
from app.delivery.attempt.pipeline import drain, send_group
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, utcnow
from tests.support.factories import load, send, send_many
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_until


@pytest.fixture
def slow_receiver():
    receiver = Receiver()
    receiver.default = Reply(delay=0.5)
    yield receiver
    receiver.close()


def _claim_slots(app, count, limit=1):
    """Claim as count worker slots would, one after another, without sending; return each slot's claims."""
    with app.app_context():
        return [fair.claim_next(limit)[0] for _ in range(count)]


def test_an_endpoint_holds_at_most_its_share_of_slots_and_the_next_claim_takes_another_endpoint(app, make_endpoint,
                                                                                                 receiver):
    busy = make_endpoint(event_types=["busy.*"], max_in_flight=2)
    make_endpoint(event_types=["other.*"])
    send_many(app, 5, "busy.tick")
    _, (waiting,) = send(app, "other.tick")

    first, second, third, fourth = _claim_slots(app, 4)

    assert [c.endpoint_id for c in first + second] == [busy.id, busy.id]  # the oldest due endpoint first
    assert [c.delivery_id for c in third] == [waiting]  # busy holds its two slots: the next claim is other's
    assert fourth == []  # busy is at its share; nothing else is due
    with app.app_context():
        in_flight = db.session.scalar(db.select(fair.in_flight()).where(Endpoint.id == busy.id), {"now": utcnow()})
    assert in_flight == 2


def test_a_claim_takes_one_endpoints_due_deliveries_oldest_first_up_to_the_batch(app, make_endpoint, receiver):
    endpoint = make_endpoint(event_types=["busy.*"], max_in_flight=1)  # one slot: it takes a whole batch
    make_endpoint(event_types=["other.*"])
    ids = send_many(app, 5, "busy.tick")
    send(app, "other.tick")

    (claims,) = _claim_slots(app, 1, limit=3)

    assert [c.delivery_id for c in claims] == ids[:3]
    assert {c.endpoint_id for c in claims} == {endpoint.id}
    assert len({c.lease_token for c in claims}) == 1  # one slot: one lease token


def test_the_default_share_is_the_setting(app, make_endpoint, receiver):
    app.config["WEBHOOK_MAX_IN_FLIGHT"] = 1
    make_endpoint()
    send_many(app, 3)
    claimed = _claim_slots(app, 2)
    assert [len(c) for c in claimed] == [1, 0]


def test_a_paused_or_gated_endpoint_is_not_claimed_by_the_fair_claim(app, make_endpoint, receiver):
    from datetime import timedelta

    from app.models import EndpointState
    from tests.support.factories import update

    paused, gated = make_endpoint(event_types=["a.*"]), make_endpoint(event_types=["b.*"])
    send(app, "a.tick")
    send(app, "b.tick")
    update(app, Endpoint, paused.id, state=EndpointState.PAUSED)
    update(app, Endpoint, gated.id, breaker_open_until=utcnow() + timedelta(minutes=1), breaker_failures=5)
    assert _claim_slots(app, 1) == [[]]


def test_a_drain_sends_everything_due_and_records_each_attempt(app, make_endpoint, receiver):
    make_endpoint()
    ids = send_many(app, 7)
    with app.app_context():
        results = drain(limit=3)
    assert len(results) == len(receiver.requests) == 7
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}


def test_a_slow_endpoints_backlog_does_not_hold_up_another_endpoint(app, make_endpoint, slow_receiver, receiver,
                                                                   worker):
    # The worker has 4 slots; the slow endpoint may hold 2 of them. Its 24 webhooks take 0.5 s each: 6 s at least.
    slow = make_endpoint(slow_receiver.url(), event_types=["slow.*"], max_in_flight=2)
    make_endpoint(event_types=["fast.*"])
    send_many(app, 24, "slow.tick")
    slow_receiver.wait_for(1, timeout=30)
    for count in range(1, 6):
        send(app, "fast.tick")
        receiver.wait_for(count, timeout=30)
    assert len(slow_receiver.requests) < 24  # every fast webhook arrived while the slow backlog was still draining
    slow_receiver.wait_for(24, timeout=60)  # and the slow endpoint kept draining at its share
    assert slow_receiver.max_in_flight <= 2
    wait_until(lambda: _succeeded(app, slow.id) == 24, timeout=30, message="the slow endpoint's attempts are recorded")


def _succeeded(app, endpoint_id):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Delivery).where(
            Delivery.endpoint_id == endpoint_id, Delivery.status == DeliveryStatus.SUCCEEDED))


def test_a_worker_that_stops_gives_back_what_it_has_not_sent_without_an_attempt(app, make_endpoint, receiver):
    make_endpoint(max_in_flight=1)
    ids = send_many(app, 4)
    with app.app_context():  # the worker shuts down once the first webhook of the batch has been sent
        results = send_group(fair.claim_next(4)[0], stopping=lambda: len(receiver.requests) >= 1)
    rows = [load(app, i) for i in ids]
    assert len(results) == len(receiver.requests) == 1
    assert [d.status for d in rows] == [DeliveryStatus.SUCCEEDED] + [DeliveryStatus.PENDING] * 3
    assert [d.attempt_count for d in rows[1:]] == [0, 0, 0] and {d.lease_token for d in rows[1:]} == {None}


def test_a_batch_is_in_flight_one_at_a_time_and_the_rest_wait_reserved(app, make_endpoint, receiver):
    from datetime import timedelta

    make_endpoint(max_in_flight=1)
    ids = send_many(app, 3)
    with app.app_context():
        claims, _ = fair.claim_next(3)
    first, second, third = (load(app, i) for i in ids)
    assert first.status is DeliveryStatus.SENDING  # only what is being sent is sending
    assert {(d.status, d.lease_token) for d in (second, third)} == {(DeliveryStatus.PENDING, claims[0].lease_token)}
    assert _claim_slots(app, 1, limit=3) == [[]]  # reserved, and the endpoint's one slot is taken
    update_lease = utcnow() - timedelta(seconds=5)
    with app.app_context():  # the third's reservation runs out (its slot is slow): another slot may take it
        db.session.execute(db.update(Delivery).where(Delivery.id == ids[2]).values(lease_expires_at=update_lease))
        db.session.execute(db.update(Endpoint).values(max_in_flight=2))
        db.session.commit()
        (taken,), _ = fair.claim_next(3)
        assert taken.delivery_id == ids[2]
        results = send_group(claims)  # the first slot sends the first two and skips the one it lost
    assert len(results) == 2 and len(receiver.requests) == 2
    assert [load(app, i).status for i in ids] == [DeliveryStatus.SUCCEEDED] * 2 + [DeliveryStatus.SENDING]


def test_each_webhook_of_a_batch_is_sending_under_its_own_lease_only_while_it_is_sent(app, make_endpoint, receiver):
    endpoint = make_endpoint(max_in_flight=1)
    ids = send_many(app, 3)
    seen = []  # what the database said as each webhook arrived: [(status, lease seconds left) of each delivery]

    def look(received):
        with app.app_context():
            rows = {d.id: d for d in db.session.scalars(db.select(Delivery).where(Delivery.id.in_(ids)))}
            now = utcnow()
            seen.append([(rows[i].status, rows[i].lease_expires_at and (rows[i].lease_expires_at - now).total_seconds())
                         for i in ids])
            db.session.rollback()

    receiver.answer = look
    with app.app_context():
        results = send_group(fair.claim_next(3)[0])
    assert len(results) == len(seen) == 3
    with app.app_context():
        own_lease = db.session.get(Endpoint, endpoint.id).timeout_seconds + app.config["WEBHOOK_LEASE_MARGIN_SECONDS"]
    for position, statuses in enumerate(seen):
        status, left = statuses[position]
        assert status is DeliveryStatus.SENDING and own_lease - 10 < left <= own_lease  # its own send's lease
        assert [s for s, _ in statuses[:position]] == [DeliveryStatus.SUCCEEDED] * position
        assert [s for s, _ in statuses[position + 1:]] == [DeliveryStatus.PENDING] * (2 - position)  # still reserved
    assert [load(app, i).status for i in ids] == [DeliveryStatus.SUCCEEDED] * 3


def test_a_claim_says_whether_another_slot_would_find_work(app, make_endpoint, receiver):
    busy = make_endpoint(event_types=["busy.*"], max_in_flight=2)
    send_many(app, 5, "busy.tick")
    with app.app_context():
        first, more_after_first = fair.claim_next(2)
        second, more_after_second = fair.claim_next(2)
    assert [c.endpoint_id for c in first + second] == [busy.id] * 4
    assert more_after_first  # busy's second slot may take the rest
    assert not more_after_second  # busy is at its share and nothing else is due: waking a slot would waste it
    solo = make_endpoint(event_types=["solo.*"], max_in_flight=1)
    other = make_endpoint(event_types=["other.*"])
    send_many(app, 3, "solo.tick")
    send_many(app, 1, "other.tick")
    with app.app_context():
        solos, more_after_solo = fair.claim_next(2)
        others, more_after_other = fair.claim_next(2)
    assert [c.endpoint_id for c in solos] == [solo.id] * 2 and [c.endpoint_id for c in others] == [other.id]
    assert more_after_solo  # solo took its one slot, but other's delivery waits for a slot
    assert not more_after_other


def test_a_failing_endpoint_is_claimed_on_time_within_a_smaller_share(app, make_endpoint, receiver):
    from tests.support.factories import update

    app.config["WEBHOOK_FAILING_MAX_IN_FLIGHT"] = 1
    failing = make_endpoint(event_types=["a.*"])
    send_many(app, 3, "a.tick")
    update(app, Endpoint, failing.id, consecutive_failures=1, breaker_failures=1)  # failing; the breaker closed
    first, second = _claim_slots(app, 2)
    # Its retries are taken when due by the fair claim, not held one by one; but by one slot at a time.
    assert [c.endpoint_id for c in first] == [failing.id] and second == []


def test_a_lost_slot_charges_an_attempt_only_to_the_delivery_it_may_have_sent(app, make_endpoint, receiver):
    from datetime import timedelta

    from app.delivery.operations.sweep import sweep
    from app.models import ErrorClass

    make_endpoint(max_in_flight=1)
    ids = send_many(app, 3)
    with app.app_context():  # a slot claims the batch and dies while sending the first
        assert len(fair.claim_next(3)[0]) == 3
        db.session.execute(db.update(Delivery).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert sweep().expired_leases == 1  # only the one in flight
    first, *never_sent = [load(app, i) for i in ids]
    assert [a.error_class for a in first.attempts_list] == [ErrorClass.WORKER_LOST]
    assert [(d.status, d.attempt_count, d.attempts_list) for d in never_sent] == [(DeliveryStatus.PENDING, 0, [])] * 2
    with app.app_context():  # and their reservation having run out, the next slot takes them
        assert set(ids[1:]) <= {c.delivery_id for c in fair.claim_next(3)[0]}


def test_a_backlog_is_spread_over_the_endpoints_free_slots(app, make_endpoint, receiver):
    make_endpoint(max_in_flight=4)
    send_many(app, 9)
    sizes = [len(claims) for claims in _claim_slots(app, 5, limit=20)]
    # 9 due over 4 free slots, then 7 over 3, 5 over 2, 3 over 1; then the share is full
    assert sizes == [2, 2, 2, 3, 0]


def test_a_slot_holds_one_database_connection_at_a_time(app, make_endpoint, receiver, monkeypatch):
    """The claim and the record take an autocommitted connection of their own on PostgreSQL; a session that only read
    (a cache refreshed) gives its connection back first, else slots could each hold one and wait for a second."""
    from sqlalchemy import text

    from app.delivery import operational
    from app.delivery.attempt import postgres

    with app.app_context():
        if not postgres.available():
            pytest.skip("the one-statement claim and record are PostgreSQL's")
    make_endpoint()
    send_many(app, 3)
    session_held = []

    def watched(take):
        def taken(*args):
            session_held.append(db.session().in_transaction())
            return take(*args)
        return taken

    monkeypatch.setattr(postgres, "autocommit", watched(postgres.autocommit))  # through SQLAlchemy
    monkeypatch.setattr(postgres.database, "autocommitted", watched(postgres.database.autocommitted))  # straight
    monkeypatch.setattr(operational, "_wanted", (0.0, frozenset()))  # expired: the first record reads it again
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the session has read before the claim
        results = drain(limit=3)
    assert len(results) == len(receiver.requests) == 3
    assert session_held and not any(session_held)
