"""A thread of the web process that evaluates the alerts no worker must be needed for (app.ops.web_alerts).

It runs them as a periodic job ("web_alerts") under the same lease as the workers' jobs, so several web processes
evaluate them one at a time; WEB_ALERT_INTERVAL_SECONDS 0 turns it off.
"""

import logging
import threading

from app import outages
from app.ops.periodic import PeriodicJob, run_if_due
from app.ops.web_alerts import evaluate_web_rules

log = logging.getLogger(__name__)


def web_alerts_job(config):
    """The periodic job of the web process's alert rules."""
    return PeriodicJob("web_alerts", evaluate_web_rules, every_seconds=config["WEB_ALERT_INTERVAL_SECONDS"],
                       lease_seconds=300)


class WebWatch(threading.Thread):
    """Evaluate the web process's alert rules every WEB_ALERT_INTERVAL_SECONDS until stopped."""

    def __init__(self, app):
        super().__init__(name="hookyard-web-watch", daemon=True)
        self.app = app
        self.job = web_alerts_job(app.config)
        self._stopped = threading.Event()

    def run(self):
        while not self._stopped.wait(min(self.job.every_seconds, self.app.config["PERIODIC_TICK_SECONDS"])):
            self.tick()

    def tick(self):
        """Run the job if it is due and this process takes its lease; log a failure and carry on."""
        try:
            with self.app.app_context():
                run_if_due(self.job)
        except Exception as exc:  # noqa: BLE001  the watch outlives a failing evaluation
            if not outages.report_database(exc):
                log.exception("web alerts failed")

    def stop(self):
        """Stop after the current tick."""
        self._stopped.set()


def start_web_watch(app):
    """Start the watch thread unless WEB_ALERT_INTERVAL_SECONDS is 0; return it (or None)."""
    if not app.config["WEB_ALERT_INTERVAL_SECONDS"]:
        return None
    watch = WebWatch(app)
    watch.start()
    return watch
