"""The embedded default: an in-process Dramatiq worker over the in-memory broker, plus the sweeper.

Used when no broker URL is set, so one command runs a working system. The database is the truth:
on start, every delivery already due is enqueued again, so a restart loses no webhook; the wake timer
(tasks.wake_timer) reads when the next one is due.
"""

import atexit
import logging

from dramatiq import Worker

from app.ops.metrics_store import PromptPublisher
from tasks import alerts, bulk, deliveries, inbound  # noqa: F401  declares the actors on the broker
from tasks.broker import broker
from tasks.middleware import install
from tasks.periodic import Periodic
from tasks.sweeper import Sweeper
from tasks.wake_timer import WakeTimer

log = logging.getLogger(__name__)

_running = {}


def start_embedded_worker(app):
    """Start the worker threads and the sweeper for app (once per process); return the Worker."""
    if "worker" in _running:
        return _running["worker"]
    # IMPORTANT: only the dramatiq CLI emits process_boot; without it TimeLimit never starts.
    broker.emit_after("process_boot")
    install(broker, app)
    worker = Worker(broker, worker_threads=app.config["WORKER_THREADS"], worker_timeout=100)
    worker.start()
    sweeper = Sweeper(app)
    sweeper.wake_everything()  # the in-memory broker starts empty
    sweeper.start()
    periodic = Periodic(app, threads=app.config["WORKER_THREADS"], queues=broker.get_declared_queues())
    periodic.start()
    publisher = PromptPublisher(app)
    publisher.start()
    timer = WakeTimer(app) if app.config["WEBHOOK_WAKE_TIMER"] else None
    if timer:
        timer.start()
    _running.update(worker=worker, sweeper=sweeper, periodic=periodic, publisher=publisher, timer=timer)
    atexit.register(stop_embedded_worker)
    log.info("embedded worker started with %d threads", app.config["WORKER_THREADS"])
    return worker


def stop_embedded_worker(timeout_ms=25_000):
    """Stop the sweeper and let in-flight attempts finish (up to timeout_ms)."""
    sweeper, worker = _running.pop("sweeper", None), _running.pop("worker", None)
    for thread in (sweeper, _running.pop("periodic", None), _running.pop("timer", None)):
        if thread:
            thread.stop()
    if worker:
        worker.stop(timeout=timeout_ms)
    publisher = _running.pop("publisher", None)
    if publisher:  # last: it stores what the attempts that just finished counted
        publisher.stop()
