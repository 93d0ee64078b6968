"""The alert actor, and the hook that sends alerts once their transaction commits."""

import dramatiq

from app import alerts
from app.delivery import outbox
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor

#: Alerts have their own queue so they never wait behind a backlog of webhooks.
QUEUE = "alerts"


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=10_000)
def send_endpoint_alert(kind, endpoint_id, reason):
    """Send an alert about an endpoint on every configured channel."""
    alerts.send_alert(kind, endpoint_id, reason)


@outbox.alerts_committed.connect
def send_committed(sender, items):
    for kind, endpoint_id, reason in items:
        send_endpoint_alert.send(kind, endpoint_id, reason)
