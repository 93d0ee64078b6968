"""The inbound processing actor, and the hooks that enqueue inbound events once their transaction commits."""

import dramatiq

from app import outbox
from app.inbound.processing import process_event
from app.queues import INBOUND as QUEUE
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks.deliveries import batched
from tasks.outages import retry_when_database_down

#: Backstop for one processing (handlers and forwarding); the event's lease (INBOUND_LEASE_SECONDS) outlasts it.
TIME_LIMIT_MS = 120_000


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=TIME_LIMIT_MS)
def process_inbound_event(event_id, trigger="received", triggered_by=None):
    """Process one stored inbound event and record it; safe to run twice."""
    with retry_when_database_down():
        process_event(event_id, trigger, triggered_by)


@outbox.inbound_committed.connect
def enqueue_committed(sender, items):
    """Send a wake-up message per committed inbound event."""
    with batched(_broker.broker):
        for event_id, trigger in items:
            process_inbound_event.send(event_id, trigger)


@outbox.inbound_retries_committed.connect
def enqueue_retries(sender, items):
    """Send a delayed message per inbound event whose processing failed and will be retried."""
    with batched(_broker.broker):
        for event_id, delay_seconds in items:
            process_inbound_event.send_with_options(args=(event_id, "retry"),
                                                    delay=max(int(delay_seconds * 1000), 1))
