"""The delivery actor, and the hook that enqueues deliveries once their transaction commits."""

from contextlib import nullcontext

import dramatiq

from app.delivery import outbox
from app.delivery.attempt import pipeline as attempts
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks.broker import QUEUE
from tasks.limits import throttle

#: Backstop only: the sender's own deadline (at most 30 s) ends every attempt well before this.
TIME_LIMIT_MS = 120_000


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=TIME_LIMIT_MS)
def deliver_webhook(delivery_id):
    """Make one attempt at a delivery and record it; safe to run twice."""
    attempts.attempt_delivery(delivery_id, throttle=throttle)


@outbox.deliveries_committed.connect
def enqueue_committed(sender, items):
    """Send a wake-up message for each committed delivery, delayed until it is due."""
    with batched(_broker.broker):
        for delivery_id, delay_seconds in items:
            delay_ms = int(delay_seconds * 1000)
            deliver_webhook.send_with_options(args=(delivery_id,), delay=delay_ms or None)


def batched(broker):
    """Wake idle consumers once for a batch of messages, where the broker supports it."""
    return broker.batched_wakeups() if hasattr(broker, "batched_wakeups") else nullcontext()
