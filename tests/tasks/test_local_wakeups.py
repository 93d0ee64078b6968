"""A worker process hands the NOTIFY listener's wake-ups to its own idle threads, without a broker round trip; while
every thread is busy, or when the worker stops, the broker takes them."""

import threading
import traceback

import pytest
from dramatiq.middleware import Middleware

from app.queues import WEBHOOKS
from tasks import local_wakeups
from tasks.deliveries import deliver_webhooks
from tests.support.factories import send, send_many
from tests.support.waiting import wait_until
from tests.tasks.test_wake_listener import listener_of

WAKE_UPS = ("deliver_webhook", "deliver_webhooks")


class _Enqueued(Middleware):
    """Records the actor of every message enqueued on the broker, and (origins) where it was enqueued from."""

    def __init__(self):
        self.actors, self.origins = [], []

    def after_enqueue(self, broker, message, delay):
        self.actors.append(message.actor_name)
        self.origins.append(f"{message.actor_name} {message.args} from {threading.current_thread().name}: "
                            + " < ".join(f"{frame.name}" for frame in reversed(traceback.extract_stack(limit=12))))


@pytest.fixture
def enqueued(broker):
    spy = _Enqueued()
    broker.add_middleware(spy)
    yield spy
    broker.middleware.remove(spy)


@pytest.fixture
def listening(wake_by_notify, worker, broker):
    wait_until(listener_of(broker).listening.is_set, message="the listener never listened")


def test_a_notified_delivery_is_woken_without_a_broker_message(listening, app, receiver, make_endpoint, enqueued):
    make_endpoint()
    send(app)
    (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"]
    assert [actor for actor in enqueued.actors if actor in WAKE_UPS] == [], "\n".join(enqueued.origins)


def test_while_every_thread_is_busy_a_wake_up_goes_through_the_broker(listening, app, worker, receiver,
                                                                      make_endpoint, enqueued):
    release = threading.Event()
    receiver.answer = lambda received: release.wait(30) and None  # every request waits, then the default reply
    make_endpoint(max_in_flight=worker.worker_threads)
    send_many(app, worker.worker_threads)
    try:
        wait_until(lambda: receiver.in_flight == worker.worker_threads, message="the threads never all sent")
        enqueued.actors.clear()
        assert not local_wakeups.hand(deliver_webhooks, [])
        send(app)  # committed while every thread waits: its wake-up must not wait in this process's own queue
        wait_until(lambda: [actor for actor in enqueued.actors if actor in WAKE_UPS],
                   message="no wake-up was enqueued")
    finally:
        release.set()
    receiver.wait_for(worker.worker_threads + 1)


def test_a_local_wake_up_left_when_the_worker_stops_is_given_to_the_broker(app, redis_url, broker):
    consumer = broker.consume(WEBHOOKS)
    try:
        consumer.ack(local_wakeups.LocalMessage(deliver_webhooks.message([])))  # never fetched: nothing to do
        consumer.requeue([local_wakeups.LocalMessage(deliver_webhooks.message(["d-1"]))])
        (data,) = broker.do_fetch(WEBHOOKS, 10)
    finally:
        consumer.close()
    assert b"d-1" in data
