"""A thread that runs the recovery sweep every WEBHOOK_SWEEP_INTERVAL_SECONDS.

Each worker process runs one. Sweeps take rows with a compare-and-set, so several running at
once do no harm; a platform cron running `flask sweep` is an alternative.
"""

import logging
import threading

from app import outages
from app.delivery.operations.sweep import enqueue_all_pending, sweep
from app.inbound.sweep import enqueue_all_waiting, sweep_inbound
from app.ops.periodic import record_run

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
        try:
            with self.app.app_context():
                result = sweep(grace_seconds)
                inbound = sweep_inbound(grace_seconds)
                record_run("sweep", {"overdue": result.overdue, "expired_leases": result.expired_leases,
                                     "resumed_jobs": result.resumed_jobs, "inbound_overdue": inbound.overdue,
                                     "inbound_expired_leases": inbound.expired_leases})
            if result.total:
                log.info("sweep re-enqueued %d overdue and %d expired-lease deliveries, resumed %d jobs",
                         result.overdue, result.expired_leases, result.resumed_jobs)
            if inbound.total:
                log.info("sweep re-enqueued %d overdue inbound events and recorded %d lost processings",
                         inbound.overdue, inbound.expired_leases)
            result.inbound = inbound
        except Exception as exc:  # noqa: BLE001  keep sweeping; the next round retries
            if not outages.report_database(exc):  # one line per outage, not a traceback every interval
                log.exception("recovery sweep failed")
            return None
        outages.database.succeeded()
        return result

    def wake_everything(self):
        """Enqueue every pending delivery and waiting inbound event (an in-memory broker starts empty) and take
        expired leases."""
        with self.app.app_context():
            woken = enqueue_all_pending()
            waiting = enqueue_all_waiting()
        log.info("woke %d pending deliveries and %d inbound events", woken, waiting)
        return self.sweep_once(grace_seconds=0)

    def stop(self):
        self._stopped.set()
