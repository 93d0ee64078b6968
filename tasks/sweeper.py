"""A thread that runs the recovery sweep every WEBHOOK_SWEEP_INTERVAL_SECONDS.

Each worker process runs one. Sweeps take rows with a compare-and-set, so several running at
once do no harm; a platform cron running `flask sweep` is an alternative.
"""

import logging
import threading
import time

from app import outages
from app.ops.periodic import record_run
from app.ops.sweeps import sweep_all, wake_all

log = logging.getLogger(__name__)


class Sweeper(threading.Thread):
    """Sweep on an interval until stopped."""

    def __init__(self, app, interval=None):
        super().__init__(name="webhook-sweeper", daemon=True)
        self.app = app
        self.interval = app.config["WEBHOOK_SWEEP_INTERVAL_SECONDS"] if interval is None else interval
        self._stopped = threading.Event()

    def run(self):
        while not self._stopped.wait(self.interval):
            self.sweep_once()

    def sweep_once(self, grace_seconds=None):
        """Run one sweep in an app context, logging instead of dying on a database error."""
        started = time.monotonic()
        try:
            with self.app.app_context():
                result = sweep_all(grace_seconds)
                record_run("sweep", result.counts)
            if result.total:
                log.info("sweep took %s", result.describe())
        except Exception as exc:  # noqa: BLE001  keep sweeping; the next round retries
            if not outages.report_database(exc, started):  # one line per outage, not a traceback every interval
                log.exception("recovery sweep failed")
            return None
        outages.database.succeeded()
        return result

    def wake_everything(self):
        """Enqueue every waiting row of every kind (an in-memory broker starts empty) and take expired leases."""
        with self.app.app_context():
            woken = wake_all()
        log.info("woke %s", ", ".join(f"{n} {kind}" for kind, n in woken.items()))
        return self.sweep_once(grace_seconds=0)

    def stop(self):
        self._stopped.set()
