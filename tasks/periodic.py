"""A thread per worker process that beats, publishes its counters and runs the periodic jobs that are due.

Each tick: this process's heartbeat, this machine's metrics (app.ops.metrics_store), then every
scheduled job whose lease this process can take (one process at a time across machines).
"""

import logging
import os
import socket
import threading
import time

from app import outages
from app.models import utcnow
from app.ops import heartbeat, metrics_store
from app.ops.periodic import run_if_due
from app.ops.schedule import scheduled_jobs

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Tick every PERIODIC_TICK_SECONDS until stopped."""

    def __init__(self, app, *, threads, queues, interval=None):
        super().__init__(name="hookyard-periodic", daemon=True)
        self.app = app
        self.threads, self.queues = threads, sorted(queues)
        self.interval = app.config["PERIODIC_TICK_SECONDS"] if interval is None else interval
        self.started_at = utcnow()
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{int(self.started_at.timestamp())}"
        self._stopped = threading.Event()

    def run(self):
        while True:
            self.tick()
            if self._stopped.wait(self.interval):
                return

    def tick(self):
        """Beat, publish and run what is due, each in an app context; log failures and carry on.

        A database that cannot answer ends the tick (each further step would wait out the same timeout) and is
        reported once per outage (app.outages), not as a traceback per step and tick.
        """
        steps = [("heartbeat", lambda: heartbeat.beat(self.identity, threads=self.threads, queues=self.queues,
                                                       started_at=self.started_at)),
                 ("metrics", metrics_store.publish_local)]
        steps += [(job.name, lambda job=job: run_if_due(job)) for job in scheduled_jobs(self.app.config)]
        for name, step in steps:
            if self._stopped.is_set():
                return
            started = time.monotonic()
            try:
                with self.app.app_context():
                    step()
            except Exception as exc:  # noqa: BLE001  one failing step must not stop the others or the thread
                if outages.report_database(exc, started):
                    return  # the next tick tries again
                log.exception("periodic %s failed", name)
            else:
                outages.database.succeeded()

    def stop(self):
        """Stop ticking and drop this process's heartbeat."""
        self._stopped.set()
        try:
            with self.app.app_context():
                heartbeat.stop(self.identity)
        except Exception as exc:  # noqa: BLE001  the heartbeat ages out anyway
            if not outages.report_database(exc):
                log.exception("could not remove the heartbeat")
