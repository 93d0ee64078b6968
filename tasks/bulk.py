"""The bulk job actor, and the hook that starts committed jobs."""

import dramatiq

from app import outbox
from app.delivery.operations import bulk
from app.queues import JOBS as QUEUE  # its own queue, so a long job never sits in front of webhooks
from app.staff.settings import get_setting
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks.outages import retry_when_database_down


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=5_000, time_limit=3_600_000)
def run_bulk_job(job_id):
    """Work through a bulk job; resumes from its cursor when run again."""
    with retry_when_database_down():
        bulk.run_bulk_job(job_id, cooldown_seconds=get_setting("retry_cooldown_seconds"))


@outbox.jobs_committed.connect
def start_committed(sender, items):
    """Send a message for each committed job."""
    for job_id in items:
        run_bulk_job.send(job_id)
