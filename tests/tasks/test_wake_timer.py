"""The worker's wake timer sends scheduled deliveries at their time without the broker's delayed message, and never
before it."""

import json
from datetime import timedelta

import pytest
from dramatiq import Worker

from app.models import DeliveryStatus, utcnow
from tasks import wake_timer
from tests.support.factories import load, queued_messages, send
from tests.support.receiver import Reply
from tests.support.waiting import wait_until


@pytest.fixture
def delayed_dropped(broker, monkeypatch):
    """No delayed broker message reaches the workers from now on: each is kept here instead of being enqueued."""
    dropped, enqueue = [], broker.enqueue

    def enqueue_due_now(message, *, delay=None):
        if delay:
            dropped.append(message)
            return message
        return enqueue(message)

    monkeypatch.setattr(broker, "enqueue", enqueue_due_now)
    return dropped


def timer_of(broker):
    (middleware,) = [m for m in broker.middleware if isinstance(m, wake_timer.WakeTimerMiddleware)]
    return middleware.thread


def schedule(app, moments):
    """Send a message due at each of moments; return {payload number: (delivery id, its moment)}."""
    return {number: (send(app, payload={"n": number}, deliver_at=when)[1][0], when)
            for number, when in enumerate(moments)}


def assert_sent_on_time(app, receiver, scheduled):
    """Every scheduled delivery succeeded with one attempt that did not start before its time, nor arrived before."""
    requests = receiver.wait_for(len(scheduled), timeout=20)
    for request in requests:
        _, when = scheduled[json.loads(request.body)["n"]]
        assert request.wall >= when.timestamp(), (request.wall, when)
    for delivery_id, when in scheduled.values():
        delivery = wait_until(lambda delivery_id=delivery_id: (
            d := load(app, delivery_id)).status is DeliveryStatus.SUCCEEDED and d)
        (attempt,) = delivery.attempts_list
        assert attempt.started_at >= when, (attempt.started_at, when)


def test_scheduled_deliveries_are_sent_at_their_time_without_their_delayed_broker_message(
        wake_timer, app, worker, broker, receiver, make_endpoint, delayed_dropped):
    make_endpoint()
    wait_until(lambda: timer_of(broker).ready.is_set(), message="the timer never read the database")
    now = utcnow()
    scheduled = schedule(app, [now + timedelta(seconds=2.5), now + timedelta(seconds=1.5),
                               now + timedelta(seconds=1.5)])
    assert len(delayed_dropped) == 3  # each would have had its delayed message: none reached the worker
    assert_sent_on_time(app, receiver, scheduled)


def test_a_restarted_worker_sends_the_scheduled_deliveries_at_their_time_from_the_database(
        wake_timer, app, worker, broker, receiver, make_endpoint):
    # Given scheduled deliveries committed while no worker runs, and a broker that lost their delayed messages
    make_endpoint()
    worker.stop()
    now = utcnow()
    scheduled = schedule(app, [now + timedelta(seconds=2), now + timedelta(seconds=3)])
    broker.flush_all()
    assert queued_messages(broker) == []

    # When a worker starts again, its timer reads when they are due, and they are sent then
    restarted = Worker(broker, worker_timeout=50, worker_threads=4)
    restarted.start()
    try:
        assert_sent_on_time(app, receiver, scheduled)
    finally:
        restarted.stop()


def test_with_the_timer_off_the_worker_keeps_none_and_the_delayed_message_sends_them(
        app, worker, broker, receiver, make_endpoint):
    make_endpoint()
    assert timer_of(broker) is None and not wake_timer._running
    scheduled = schedule(app, [utcnow() + timedelta(seconds=1.5)])
    assert queued_messages(broker) == [[delivery_id] for delivery_id, _ in scheduled.values()]
    assert_sent_on_time(app, receiver, scheduled)


def test_a_retry_committed_by_the_worker_moves_its_timer_sooner(wake_timer, app, worker, broker, make_endpoint,
                                                                   receiver, delayed_dropped):
    # Given an endpoint that fails once, then succeeds, and no delayed broker message
    receiver.reply(Reply(503))
    make_endpoint(retry_schedule=[2])
    wait_until(lambda: timer_of(broker).ready.is_set(), message="the timer never read the database")

    # When a delivery fails, its retry is sent by the timer's wake-up
    _, (delivery_id,) = send(app)
    receiver.wait_for(2, timeout=20)
    delivery = wait_until(lambda: (d := load(app, delivery_id)).status is DeliveryStatus.SUCCEEDED and d)
    assert [a.response_status for a in delivery.attempts_list] == [503, 200] and delayed_dropped
