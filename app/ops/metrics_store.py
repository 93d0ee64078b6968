"""Counters that add up across every process and machine, and survive restarts.

Each process counts in prometheus_client as usual. Under gunicorn and Dramatiq's worker processes the
library's multiprocess mode keeps every process's counts in files in PROMETHEUS_MULTIPROC_DIR
(bin/with-metrics prepares it per machine boot, before the processes start), so one process can read
the whole machine's. Web and worker run on different machines on Heroku and Render, so each machine
also publishes its totals to the database (the workers every tick, the web when scraped); a scrape
adds up every machine's row. A row is keyed by machine and boot and only ever grows, so a restart
adds a row instead of resetting one, and nothing counted is lost beyond the last tick before a crash.
Without a multiprocess directory (the embedded default, tests) the process publishes its own registry.
"""

import os
import socket
import time

from prometheus_client import REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import MetricSample, utcnow

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
