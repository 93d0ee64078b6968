"""Gauges for a scrape: rows by status from the latest snapshot, the rest from cheap indexed reads."""

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from app.delivery.queries import oldest_overdue_seconds
from app.extensions import db
from app.models import DeliveryStatus, Endpoint, EndpointState, utcnow
from app.ops import heartbeat, periodic
from app.queues import ALL as QUEUES


def _deliveries(snapshot):
    family = GaugeMetricFamily("hookyard_deliveries", "Deliveries by status (from the latest snapshot)",
                               labels=["status"])
    if snapshot is not None:
        for status in DeliveryStatus:
            family.add_metric([status.value], snapshot["deliveries"].get(status.value, 0))
    return family


def _snapshot_age(run):
    family = GaugeMetricFamily("hookyard_snapshot_age_seconds", "Seconds since the figures snapshot was taken")
    if run is not None and run.last_finished_at is not None:
        family.add_metric([], (utcnow() - run.last_finished_at).total_seconds())
    return family


def _queues():
    from tasks.broker import queue_depth  # late import: the web app loads without a worker

    family = GaugeMetricFamily("hookyard_queue_depth", "Messages waiting in the broker (ready plus delayed)",
                               labels=["queue"])
    for queue in QUEUES:
        depth = queue_depth(queue)
        if depth is not None:
            family.add_metric([queue], depth)
    return family


def _endpoints():
    counts = dict(db.session.execute(select(Endpoint.state, func.count()).where(Endpoint.deleted_at.is_(None))
                                     .group_by(Endpoint.state)).all())
    family = GaugeMetricFamily("hookyard_endpoints", "Endpoints by state", labels=["state"])
    for state in EndpointState:
        family.add_metric([state.value], counts.get(state, 0))
    return family


def collect():
    """Return the gauge families (each read is indexed or over a small table)."""
    run = periodic.get_run("snapshot")
    snapshot = run.last_result if run is not None else None
    oldest = GaugeMetricFamily("hookyard_oldest_pending_seconds",
                               "How long the most overdue pending delivery has waited past its time")
    oldest.add_metric([], oldest_overdue_seconds())
    workers = GaugeMetricFamily("hookyard_workers_alive", "Worker processes that sent a heartbeat lately")
    workers.add_metric([], len(heartbeat.alive()))
    return [_deliveries(snapshot), oldest, _queues(), _endpoints(), workers, _snapshot_age(run)]
