"""Worker entry point: `dramatiq tasks.worker --processes 2 --threads 8 --worker-shutdown-timeout 25000`.

The CLI imports this module in each worker process after forking, so each builds its own app,
database pool and broker connection.
"""

import gc
import signal

from dramatiq.middleware import Middleware

from app import create_app
from app.config import Config
from app.ops.broker_memory import warn_at_startup
from app.ops.metrics_store import PromptPublisher
from app.ops.schema import wait_for_schema
from tasks import alerts, bulk, deliveries, inbound  # noqa: F401  declares the actors
from tasks.broker import broker
from tasks.middleware import install
from tasks.periodic import Periodic
from tasks.sweeper import Sweeper

app = create_app(Config(role="worker"))
with app.app_context():  # IMPORTANT: before consuming: new code on an old schema would fail every message
    wait_for_schema(app.config["WORKER_SCHEMA_WAIT_SECONDS"])
install(broker, app)
warn_at_startup("worker")
# Everything imported and built so far lives as long as the process: keep the cyclic garbage collector
# from scanning it again and again (full collections took over 100 ms with it).
gc.collect()
gc.freeze()


def stop_once_on_sigterm():
    """Make Dramatiq's worker process act on the first SIGTERM only.

    IMPORTANT: Heroku (and systemd) send SIGTERM to every process of a dyno, so a worker process gets the
    platform's signal and then the one its main process forwards. Dramatiq takes a second SIGTERM as
    "kill now" and abandons the attempts in flight; here it only starts the graceful stop, which
    --worker-shutdown-timeout still bounds.
    """
    handler = signal.getsignal(signal.SIGTERM)
    if not getattr(handler, "__qualname__", "").startswith("worker_process"):
        return  # not inside a dramatiq worker process (tests, a shell)
    stopping = []

    def first_only(signum, frame):
        if not stopping:
            stopping.append(signum)
            handler(signum, frame)

    signal.signal(signal.SIGTERM, first_only)


stop_once_on_sigterm()


class SweeperMiddleware(Middleware):
    """Run the recovery sweep, the periodic work (heartbeat, metrics, jobs) and the metrics publisher in this worker
    process while it is up."""

    def __init__(self):
        self.sweeper = self.periodic = self.publisher = None

    def after_worker_boot(self, broker, worker):
        if app.config["WEBHOOK_SWEEP_INTERVAL_SECONDS"] > 0:
            self.sweeper = Sweeper(app)
            self.sweeper.start()
        self.periodic = Periodic(app, threads=worker.worker_threads, queues=worker.consumer_whitelist
                                 or broker.get_declared_queues())
        self.periodic.start()
        self.publisher = PromptPublisher(app)
        self.publisher.start()

    def before_worker_shutdown(self, broker, worker):
        for thread in (self.sweeper, self.periodic, self.publisher):  # the publisher stores the last counts
            if thread:
                thread.stop()


broker.add_middleware(SweeperMiddleware())
