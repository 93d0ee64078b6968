from datetime import timedelta

from app.delivery.attempt.pipeline import Deferred, attempt_delivery
from app.models import Delivery, DeliveryAttempt, Endpoint, utcnow
from tests.support.factories import load, load_endpoint, queued_delivery_ids, send, update
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: Deliveries held while the breaker is open.
HELD = 8
#: How long the recovered receiver takes to answer the probe.
PROBE_SECONDS = 2


def attempt(app, delivery_id):
    with app.app_context():
        result = attempt_delivery(delivery_id)
        return result.response_status if isinstance(result, DeliveryAttempt) else result


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


def test_held_deliveries_arrive_soon_after_the_probe_succeeds(app, make_endpoint, receiver, broker, worker):
    # Given an endpoint whose breaker opened, with deliveries held behind it for the cool-off (plus jitter)
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 4
    endpoint = make_endpoint(retry_schedule=[3600])
    receiver.default = Reply(503)
    for _ in range(5):
        send(app)
    wait_until(lambda: load_endpoint(app, endpoint.id).breaker_open_until is not None,
               message=lambda: f"{len(receiver.requests)} requests")
    held = [send(app)[1][0] for _ in range(HELD)]
    wait_until(lambda: all(load(app, i).held_reason == "breaker open" for i in held), timeout=10,
               message=lambda: [load(app, i).held_reason for i in held])

    # When the receiver recovers, slowly enough that deliveries waking meanwhile wait behind the probe's lease
    receiver.reply(Reply(200, delay=PROBE_SECONDS))
    receiver.default = Reply(200)
    wait_until(lambda: len(receiver.requests) == 5 + HELD, timeout=40,
               message=lambda: f"{len(receiver.requests) - 5} of {HELD} held deliveries arrived")

    # Then the rest arrive within a few seconds of the probe: not at their own hold time (up to 1.5 x the cool-off),
    # nor after the probe's lease (its 10 s timeout and the margin)
    probe, *rest = receiver.requests[5:]
    late = max(r.at for r in rest) - probe.at
    assert late < PROBE_SECONDS + 4, f"the last held delivery arrived {late:.1f} s after the probe"
