import threading
from datetime import timedelta

from sqlalchemy import update as sa_update

from app.delivery.attempt.breaker_wake import BREAKER_HOLDS
from app.delivery.attempt.pipeline import Deferred, attempt_delivery
from app.delivery.attempt.record import RecordedAttempt
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, utcnow
from app.outbox import enqueue_after_commit
from tests.support.factories import load, load_endpoint, queued_delivery_ids, send, update
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: Deliveries held while the breaker is open.
HELD = 8


def attempt(app, delivery_id):
    with app.app_context():
        result = attempt_delivery(delivery_id)
        return result.response_status if isinstance(result, RecordedAttempt) else result


def behind_the_probe(app, ids):
    """How many of the deliveries wait for the breaker's probe, held until its lease ends (minutes away)."""
    rows = [load(app, i) for i in ids]
    later = utcnow() + timedelta(minutes=5)
    return sum(1 for d in rows if d.held_reason in BREAKER_HOLDS and d.next_attempt_at > later)


def open_breaker(app, receiver):
    receiver.default = Reply(503)
    for _ in range(5):  # WEBHOOK_BREAKER_THRESHOLD
        attempt(app, send(app)[1][0])


def test_the_probe_s_success_makes_what_the_breaker_held_due_and_wakes_it(app, make_endpoint, receiver, broker):
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 60
    endpoint = make_endpoint(retry_schedule=[3600])
    open_breaker(app, receiver)
    held = [send(app)[1][0] for _ in range(3)]
    assert all(isinstance(attempt(app, i), Deferred) for i in held)
    _, (retrying,) = send(app)
    update(app, Delivery, retrying, next_attempt_at=utcnow() + timedelta(hours=1))  # waits for its own schedule
    broker.flush_all()
    update(app, Endpoint, endpoint.id, breaker_open_until=utcnow() - timedelta(seconds=1))
    receiver.default = Reply(200)
    _, (probe,) = send(app)
    assert attempt(app, probe) == 200
    assert all(load(app, i).held_reason is None and load(app, i).next_attempt_at <= utcnow() for i in held)
    assert load(app, retrying).next_attempt_at > utcnow() + timedelta(minutes=50)  # not the breaker's to wake
    assert set(held) <= set(queued_delivery_ids(broker))


def test_a_failed_probe_wakes_nothing(app, make_endpoint, receiver, broker):
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 60
    endpoint = make_endpoint(retry_schedule=[3600])
    open_breaker(app, receiver)
    _, (held,) = send(app)
    attempt(app, held)
    update(app, Endpoint, endpoint.id, breaker_open_until=utcnow() - timedelta(seconds=1))
    _, (probe,) = send(app)
    assert attempt(app, probe) == 503
    assert load(app, held).held_reason == "breaker open" and load(app, held).next_attempt_at > utcnow()


def wake(app, ids):
    """What the end of the cool-off does to held deliveries: make them due and wake them."""
    with app.app_context():
        db.session.execute(sa_update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=utcnow()))
        for delivery_id in ids:
            enqueue_after_commit(db.session, delivery_id)
        db.session.commit()


def test_held_deliveries_arrive_soon_after_the_probe_succeeds(app, make_endpoint, receiver, broker, worker):
    # Given an endpoint whose breaker opened, with deliveries held behind it; their own hold times (the cool-off
    # plus jitter) and the probe's lease (its timeout plus the margin) are all ten minutes or more away, so a held
    # delivery that arrives within a minute was woken by the probe's success and by nothing else
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 600
    app.config["WEBHOOK_LEASE_MARGIN_SECONDS"] = 600
    endpoint = make_endpoint(retry_schedule=[3600], timeout_seconds=30)
    receiver.default = Reply(503)
    for _ in range(5):
        send(app)
    wait_until(lambda: load_endpoint(app, endpoint.id).breaker_open_until is not None,
               message=lambda: f"{len(receiver.requests)} requests")
    probe, *others = [send(app)[1][0] for _ in range(HELD)]
    wait_until(lambda: all(load(app, i).held_reason == "breaker open" for i in [probe, *others]), timeout=30,
               message=lambda: [load(app, i).held_reason for i in [probe, *others]])

    # When the cool-off ends, the first to wake becomes the probe; the recovered receiver answers it only once
    # the others, waking while it is in flight, wait behind it (held again, until the probe's lease ends)
    recovered = threading.Event()
    receiver.answer = lambda received: Reply(200) if recovered.wait(25) else Reply(503)
    update(app, Endpoint, endpoint.id, breaker_open_until=utcnow() - timedelta(seconds=1))
    wake(app, [probe])
    receiver.wait_for(5 + 1, timeout=30)
    wake(app, others)
    wait_until(lambda: behind_the_probe(app, others) == len(others), timeout=25,
               message=lambda: [(load(app, i).held_reason, load(app, i).next_attempt_at) for i in others])
    recovered.set()

    # Then the others arrive once the probe succeeds, long before their own hold time or the probe's lease
    wait_until(lambda: len(receiver.requests) == 5 + HELD, timeout=60,
               message=lambda: f"{len(receiver.requests) - 5} of {HELD} held deliveries arrived")
    wait_until(lambda: all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in [probe, *others]), timeout=30,
               message=lambda: [load(app, i).status for i in [probe, *others]])
