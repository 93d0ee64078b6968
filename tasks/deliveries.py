"""The delivery actors, and the hook that enqueues deliveries once their transaction commits."""

from contextlib import nullcontext

import dramatiq

from app import outbox
from app.delivery.attempt import pipeline
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks.broker import QUEUE
from tasks.outages import retry_when_database_down
from tasks.rate_limits import throttle
from tasks.redis_wakeup import WakeableRedisBroker

#: Backstop only: the sender's own deadline (at most 30 s) ends every attempt well before this.
TIME_LIMIT_MS = 120_000
#: Most delivery ids one broker message carries (a batch API call or a busy outbox commits many at once).
BATCH_SIZE = 20
#: Backstop for a batch, whose deliveries to one endpoint are sent in turn.
BATCH_TIME_LIMIT_MS = TIME_LIMIT_MS * BATCH_SIZE


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=TIME_LIMIT_MS)
def deliver_webhook(delivery_id):
    """Make one attempt at a delivery and record it; safe to run twice."""
    with retry_when_database_down():
        pipeline.attempt_delivery(delivery_id, throttle=throttle)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=BATCH_TIME_LIMIT_MS)
def deliver_webhooks(delivery_ids):
    """Make one attempt at each of a batch of deliveries and record them; safe to run twice."""
    with retry_when_database_down():
        pipeline.attempt_deliveries(delivery_ids, throttle=throttle)


@outbox.deliveries_committed.connect
def enqueue_committed(sender, items):
    """Send wake-up messages for committed deliveries: those due now in batches, the others delayed alone."""
    due = [delivery_id for delivery_id, delay in items if delay <= 0]
    with batched(_broker.broker):
        for start in range(0, len(due), BATCH_SIZE):
            chunk = due[start:start + BATCH_SIZE]
            if len(chunk) == 1:
                deliver_webhook.send(chunk[0])
            else:
                deliver_webhooks.send(chunk)
        for delivery_id, delay_seconds in items:
            if delay_seconds > 0:
                deliver_webhook.send_with_options(args=(delivery_id,), delay=max(int(delay_seconds * 1000), 1))


def batched(broker):
    """Wake idle consumers once for a batch of messages, where the broker supports it."""
    return broker.batched_wakeups() if isinstance(broker, WakeableRedisBroker) else nullcontext()
