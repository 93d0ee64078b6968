"""Prometheus counters, counted where the facts happen (an attempt recorded, an inbound event settled).

Under gunicorn and Dramatiq's processes the library's multiprocess mode is on (bin/with-metrics sets
PROMETHEUS_MULTIPROC_DIR before the processes start); app.ops.metrics_store adds up every machine's.

Counting on write keeps a scrape cheap at any table size; gauges that describe the database are
read from snapshots, never from a heavy query per scrape. Labels stay bounded: outcomes, error
classes and kinds, never an endpoint or a delivery id.
"""

import threading

from prometheus_client import Counter, Histogram

#: Attempt durations, in seconds; from a fast local receiver to the 30 s deadline.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

attempts_total = Counter("hookyard_attempts", "Attempts made, by outcome and error class",
                         ["outcome", "error_class"])
attempt_duration_seconds = Histogram("hookyard_attempt_duration_seconds", "How long each attempt took",
                                     buckets=DURATION_BUCKETS)
#: Seed 004's names for inbound webhooks: settled events, by how they settled.
inbound_processed_total = Counter("webhook_events_processed", "Inbound events processed")
inbound_failed_total = Counter("webhook_events_failed", "Inbound events whose processing failed")
inbound_duplicate_total = Counter("webhook_events_duplicate", "Inbound requests that repeated an event")

#: Every collector here, in the order a scrape lists them; UNLABELLED ones show 0 before their first count.
COLLECTORS = (attempts_total, attempt_duration_seconds, inbound_processed_total, inbound_failed_total,
              inbound_duplicate_total)
UNLABELLED = ("webhook_events_processed", "webhook_events_failed", "webhook_events_duplicate")

#: Set on every count, so this process's publisher (app.ops.metrics_store.PromptPublisher) stores it soon.
counted = threading.Event()

_INBOUND = {"processed": inbound_processed_total, "failed": inbound_failed_total,
            "duplicate": inbound_duplicate_total}


def observe_attempt(*, succeeded, error_class, duration_ms):
    """Count one recorded attempt (error_class: an ErrorClass value or None)."""
    attempts_total.labels("succeeded" if succeeded else "failed", error_class or "none").inc()
    attempt_duration_seconds.observe(duration_ms / 1000)
    counted.set()


def observe_inbound(kind):
    """Count one inbound event settling as kind: processed, failed or duplicate."""
    _INBOUND[kind].inc()
    counted.set()
