import threading
from datetime import timedelta

from app.delivery.attempt.pipeline import Deferred, attempt_delivery
from app.delivery.attempt.record import RecordedAttempt
from app.models import Delivery, DeliveryStatus, Endpoint, utcnow
from tests.support.factories import load, load_endpoint, send, update
from tests.support.receiver import Reply
from tests.support.waiting import wait_until


def attempt(app, delivery_id):
    """Attempt a delivery: a Deferred, None, or the recorded attempt's response status."""
    with app.app_context():
        result = attempt_delivery(delivery_id)
        return result.response_status if isinstance(result, RecordedAttempt) else result



def fail_times(app, count):
    ids = []
    for _ in range(count):
        _, (delivery_id,) = send(app)
        attempt(app, delivery_id)
        ids.append(delivery_id)
    return ids


def test_consecutive_failures_open_the_breaker_and_hold_new_attempts(app, make_endpoint, receiver):
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 60
    endpoint = make_endpoint()
    receiver.default = Reply(503)
    fail_times(app, 5)
    assert load_endpoint(app, endpoint.id).breaker_open_until > utcnow() + timedelta(seconds=50)
    _, (held,) = send(app)
    result = attempt(app, held)
    assert isinstance(result, Deferred) and result.reason == "breaker open"
    assert len(receiver.requests) == 5  # nothing sent while open
    delivery = load(app, held)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempt_count == 0  # no attempt used up
    assert delivery.next_attempt_at >= load_endpoint(app, endpoint.id).breaker_open_until
    assert delivery.held_reason == "breaker open"  # the monitor can say why it waits, and until when


def test_rejected_payloads_do_not_open_the_breaker(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.default = Reply(422)  # the receiver is up; it just refuses these payloads
    fail_times(app, 7)
    row = load_endpoint(app, endpoint.id)
    assert (row.consecutive_failures, row.breaker_failures, row.breaker_open_until) == (7, 0, None)
    receiver.default = Reply(503)
    fail_times(app, 4)
    receiver.default = Reply(400)
    fail_times(app, 1)  # an answer in between resets the run
    receiver.default = Reply(503)
    fail_times(app, 4)
    assert load_endpoint(app, endpoint.id).breaker_open_until is None


def test_after_the_cool_off_one_probe_goes_and_its_success_closes_the_breaker(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.default = Reply(503)
    fail_times(app, 5)
    update(app, Endpoint, endpoint.id, breaker_open_until=utcnow() - timedelta(seconds=1))
    _, (probe,) = send(app)
    _, (second,) = send(app)
    receiver.default = Reply(200, delay=0.5)
    results, sent = {}, len(receiver.requests)
    first = threading.Thread(target=lambda: results.update(probe=attempt(app, probe)))
    first.start()
    receiver.wait_for(sent + 1)  # the probe is in flight: claimed, and its request held by the receiver
    results["second"] = attempt(app, second)
    first.join()
    assert isinstance(results["second"], Deferred)  # held while the probe is in flight
    assert results["probe"] == 200
    closed = load_endpoint(app, endpoint.id)
    assert closed.consecutive_failures == 0 and closed.breaker_open_until is None
    update(app, Delivery, second, next_attempt_at=utcnow())
    assert attempt(app, second) == 200  # closed: flows again


def test_a_failed_probe_opens_the_breaker_again(app, make_endpoint, receiver):
    app.config["WEBHOOK_BREAKER_COOLDOWN_SECONDS"] = 60
    endpoint = make_endpoint()
    receiver.default = Reply(503)
    fail_times(app, 5)
    update(app, Endpoint, endpoint.id, breaker_open_until=utcnow() - timedelta(seconds=1))
    _, (probe,) = send(app)
    assert attempt(app, probe) == 503
    assert load_endpoint(app, endpoint.id).breaker_open_until > utcnow() + timedelta(seconds=50)


def test_a_failing_endpoint_gets_only_a_few_attempts_in_flight(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    update(app, Endpoint, endpoint.id, consecutive_failures=1, breaker_failures=1)
    receiver.default = Reply(503, delay=3)  # long enough for every thread to try while two are in flight
    ids = [send(app)[1][0] for _ in range(4)]
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(attempt(app, i))) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert receiver.max_in_flight == 2  # WEBHOOK_FAILING_MAX_IN_FLIGHT
    assert sum(isinstance(r, Deferred) and r.reason == "failing endpoint busy" for r in results) == 2
    held = [d for d in (load(app, i) for i in ids) if d.held_reason == "failing endpoint busy"]
    assert len(held) == 2 and all(d.next_attempt_at >= d.created_at + timedelta(seconds=1) for d in held)


def test_a_hanging_endpoint_does_not_starve_a_healthy_one(app, make_endpoint, receiver, broker, worker):
    # Given a dead endpoint that holds every request until its 3 s deadline, and a healthy one
    from tests.support.receiver import Receiver

    hanging = Receiver()
    hanging.default = Reply(200, delay=30)
    try:
        make_endpoint(hanging.url(), event_types=["dead.*"], timeout_seconds=3)
        make_endpoint(receiver.url(), event_types=["live.*"])
        # When 40 webhooks for the dead endpoint are queued ahead of 20 for the healthy one
        dead = [send(app, "dead.event")[1][0] for _ in range(40)]
        live = [send(app, "live.event")[1][0] for _ in range(20)]
        wait_until(lambda: all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in live), timeout=60)
        # Then the healthy endpoint's webhooks all arrive before even half of the dead ones were tried: first come,
        # first served would have tried all 40 first. Counted, not timed: once the dead endpoint holds at most two
        # of the worker's four threads it is tried at most twice per 3 s, so a busy machine leaves a wide margin.
        attempted = sum(load(app, i).attempt_count for i in dead)
        assert attempted < len(dead) // 2, f"{attempted} attempts went to the dead endpoint"
    finally:
        hanging.close()
