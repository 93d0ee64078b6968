"""What runs periodically inside the workers, one process at a time (see app.ops.periodic)."""

from app.delivery.queries import status_counts
from app.models import utcnow
from app.ops.alert_rules import evaluate_rules
from app.ops.digest import send_digest
from app.ops.periodic import PeriodicJob
from app.ops.retention import run_retention

#: The UTC hour retention runs at each day.
RETENTION_HOUR_UTC = 3


def take_snapshot():
    """Count deliveries by status, for the gauges a scrape serves (one GROUP BY, off the scrape's path)."""
    return {"deliveries": status_counts(), "taken_at": utcnow().isoformat()}


def scheduled_jobs(config):
    """Return the periodic jobs with their intervals from config; add one here to schedule it."""
    return [
        PeriodicJob("snapshot", take_snapshot, every_seconds=config["SNAPSHOT_INTERVAL_SECONDS"], lease_seconds=300),
        PeriodicJob("alerts", evaluate_rules, every_seconds=config["ALERT_INTERVAL_SECONDS"], lease_seconds=300),
        PeriodicJob("retention", run_retention, daily_at_hour=RETENTION_HOUR_UTC, lease_seconds=3600),
        PeriodicJob("digest", send_digest, daily_at_hour=config["DIGEST_HOUR_UTC"], lease_seconds=600),
    ]
