"""Counters that add up across every process and machine, and survive restarts.

Each process counts in prometheus_client as usual. Under gunicorn and Dramatiq's worker processes the
library's multiprocess mode keeps every process's counts in files in PROMETHEUS_MULTIPROC_DIR
(bin/with-metrics prepares it before the processes start and keeps it across restarts on the machine), so one
process can read the whole machine's, dead processes' included. Web and worker run on different machines on
Heroku and Render, so each machine also publishes its totals to the database: about a second after each count
(PromptPublisher), every worker tick, when a worker stops and when the web is scraped; a scrape adds up every
machine's row. A row is keyed by machine and boot and only ever grows. A restart on the same machine carries on
the same row from the files kept; a machine with a fresh disk adds a row instead of resetting one, losing at
most the second before a crash. Without a multiprocess directory (the embedded default, tests) the process
publishes its own registry.
"""

import logging
import os
import socket
import threading
import time

from prometheus_client import REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app import metrics, outages
from app.extensions import db
from app.models import MetricSample, utcnow

log = logging.getLogger(__name__)

#: Written by bin/with-metrics: the id of this machine boot's metrics directory.
BOOT_FILE = "boot"
#: Only these families are published (the counters and histograms of app.metrics).
PREFIXES = ("hookyard_", "webhook_")
_STARTED = f"{int(time.time() * 1000)}"


def sample_key(name, labels):
    """Name a sample as stored: name|label=value,... (labels sorted)."""
    return name + "|" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def parse_key(key):
    """Return (name, labels) from a sample_key."""
    name, _, raw = key.partition("|")
    return name, dict(part.split("=", 1) for part in raw.split(",") if part)


def _wanted(metrics):
    samples = {}
    for metric in metrics:
        if not metric.name.startswith(PREFIXES) or metric.type not in ("counter", "histogram"):
            continue
        for sample in metric.samples:
            if not sample.name.endswith("_created"):
                samples[sample_key(sample.name, sample.labels)] = sample.value
    return samples


def _multiprocess_dir():
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


def local_samples():
    """Return (source, samples) for this machine boot's processes, or this process alone."""
    path = _multiprocess_dir()
    if path is None:
        return f"{socket.gethostname()}:{os.getpid()}:{_STARTED}", _wanted(REGISTRY.collect())
    files = [os.path.join(path, f) for f in os.listdir(path) if f.endswith(".db") and not f.startswith("gauge_")]
    try:
        with open(os.path.join(path, BOOT_FILE)) as f:
            boot = f.read().strip()
    except FileNotFoundError:
        boot = "unprepared"
    return f"{socket.gethostname()}:{boot}", _wanted(MultiProcessCollector.merge(files, accumulate=True))


def publish_local():
    """Store this machine's (or process's) counters, unless a newer copy is stored already; commits."""
    source, samples = local_samples()
    seq = sum(value for key, value in samples.items() if not key.split("|")[0].endswith(("_bucket", "_sum")))
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.engine.dialect.name]
    table = MetricSample.__table__
    statement = dialect.insert(table).values(source=source, seq=seq, samples=samples, updated_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.source], set_={"seq": seq, "samples": samples, "updated_at": utcnow()},
        where=table.c.seq <= seq)  # a slower publisher holding an older copy never overwrites a newer one
    db.session.execute(statement)
    db.session.commit()
    return source


def totals():
    """Return {sample key: value} summed over every source ever published."""
    summed = {}
    for samples in db.session.scalars(select(MetricSample.samples)):
        for key, value in samples.items():
            summed[key] = summed.get(key, 0.0) + value
    return summed


class PromptPublisher(threading.Thread):
    """Publish this machine's counters about min_interval seconds after a count, and once more when stopped."""

    def __init__(self, app, min_interval=1.0):
        super().__init__(name="hookyard-metrics", daemon=True)
        self.app, self.min_interval = app, min_interval
        self._stopped = threading.Event()

    def run(self):
        while not self._stopped.is_set():
            metrics.counted.wait()
            if self._stopped.wait(self.min_interval):  # gather the counts of a busy second into one write
                return
            metrics.counted.clear()
            self.publish()

    def publish(self):
        """Publish now; a database outage is counted (one log line per outage), anything else logged."""
        with self.app.app_context():
            try:
                publish_local()
            except Exception as exc:  # noqa: BLE001  the next count or tick publishes again
                if not outages.database_failed(exc):
                    log.exception("could not publish the metrics")

    def stop(self):
        """Stop, and publish what was counted since the last time."""
        self._stopped.set()
        metrics.counted.set()
        self.publish()
