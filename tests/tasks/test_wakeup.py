"""An idle Redis worker picks up a webhook at once, instead of after a polling backoff of up to 1 s."""

import statistics
import time

import pytest
from dramatiq import Worker

from tasks.middleware import install
from tests.support.factories import send


@pytest.fixture
def production_worker(app, broker):
    """A worker with Dramatiq's default worker timeout (1 s), as the dramatiq command line runs it."""
    middleware = install(broker, app)
    worker = Worker(broker, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()
    broker.middleware[:] = [
        m for m in broker.middleware if m is not middleware and type(m).__name__ != "_WorkerMiddleware"
    ]


def test_a_lone_webhook_to_an_idle_worker_is_sent_promptly(app, make_endpoint, receiver, redis_url,
                                                            production_worker):
    # redis_url: the in-memory broker wakes its consumers itself; Redis is what is tested
    make_endpoint()
    latencies = []
    for count in range(1, 6):
        time.sleep(1.5)  # long enough for a polling consumer to back off to its maximum
        sent = time.monotonic()
        send(app)
        arrived = receiver.wait_for(count, timeout=5)[-1].at
        latencies.append(arrived - sent)
    assert statistics.median(latencies) < 0.15, [f"{s * 1000:.0f} ms" for s in latencies]


def test_a_worker_started_on_a_full_queue_drains_it_without_waiting(app, make_endpoint, receiver, broker, redis_url):
    from tests.support.factories import send_many

    make_endpoint()
    ids = send_many(app, 200)  # queued while no worker runs
    middleware = install(broker, app)
    worker = Worker(broker, worker_threads=4)
    started = time.monotonic()
    worker.start()
    try:
        receiver.wait_for(len(ids), timeout=30)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
        broker.middleware[:] = [
            m for m in broker.middleware if m is not middleware and type(m).__name__ != "_WorkerMiddleware"
        ]
    assert elapsed < 6, f"200 queued webhooks took {elapsed:.1f}s"
