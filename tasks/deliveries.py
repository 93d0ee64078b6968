"""The delivery actors, and the hook that wakes workers once deliveries are committed.

A broker message is a wake-up: the slot that takes it drains what is due, fairly (pipeline.drain); the
delivery ids it names matter only for what the fair claim leaves to the gated path (a test send, a gated
endpoint).
"""

import math
import threading
import time
from contextlib import nullcontext

import dramatiq
from dramatiq.middleware import Middleware

from app import outages, outbox
from app.delivery.attempt import pipeline
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks import local_wakeups
from tasks.broker import QUEUE
from tasks.draining import draining
from tasks.outages import retry_when_database_down
from tasks.rate_limits import throttle
from tasks.redis_wakeup import WakeableRedisBroker

#: Backstop only: the sender's own deadline (at most 30 s) ends every attempt well before this.
TIME_LIMIT_MS = 120_000
#: Most deliveries one claim takes (and most delivery ids one broker message names).
BATCH_SIZE = 20
#: Wake-up messages one commit sends at most, however many deliveries it committed: the slots they wake bring in
#: more (pipeline.drain's wake_peer), so a commit of thousands costs a few broker round trips, not one per batch.
WAKE_FANOUT = 4
#: Deliveries due later are woken together when due within this many seconds of each other (rounded up).
WAKE_ROUNDING = 0.05
#: A slot drains this long at most, then hands what is left to a fresh wake-up (so a worker can stop or restart).
DRAIN_SECONDS = 60
#: Backstop for a drain: its rounds, and a last batch sent in turn.
DRAIN_TIME_LIMIT_MS = DRAIN_SECONDS * 1000 + TIME_LIMIT_MS * BATCH_SIZE

#: Set while this process's worker shuts down: slots stop claiming and give back what they have not sent.
stopping = threading.Event()


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=DRAIN_TIME_LIMIT_MS)
def deliver_webhook(delivery_id):
    """Wake-up naming one delivery: drain what is due (see the module docstring); safe to run twice."""
    drain([delivery_id])


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, time_limit=DRAIN_TIME_LIMIT_MS)
def deliver_webhooks(delivery_ids):
    """Wake-up naming some deliveries (or none): drain what is due; safe to run twice."""
    drain(delivery_ids)


def drain(hint_ids):
    with draining.slot(wake_now) as slot, retry_when_database_down():
        pipeline.drain(hint_ids, throttle=throttle, limit=BATCH_SIZE, stopping=stopping.is_set,
                       wake_peer=wake_peer, budget_seconds=DRAIN_SECONDS, wakeups=slot)


def wake_now(delivery_ids):
    """Wake a slot for delivery_ids (due now; none: one slot to drain what is due): an idle worker thread of this
    process when there is one (tasks.local_wakeups), else through the broker. A broker failure is logged once per
    outage (app.outages): the deliveries are committed and due, and the recovery sweep sends them."""
    hand, started = local_wakeups.hand, time.monotonic()
    try:
        if delivery_ids:
            enqueue_committed(None, items=[(delivery_id, 0.0) for delivery_id in dict.fromkeys(delivery_ids)],
                              hand=hand)
        elif not hand(deliver_webhooks, []):
            deliver_webhooks.send([])
    except Exception as exc:  # noqa: BLE001  the deliveries are committed and due: the sweep sends them
        outages.broker.failed(exc, started=started)


def wake_peer():
    """Wake one more slot to drain beside this one (there is more due than one batch)."""
    deliver_webhooks.send([])


class StopClaiming(Middleware):
    """Tell this process's slots to stop claiming while its worker shuts down."""

    def after_worker_boot(self, broker, worker):
        stopping.clear()

    def before_worker_shutdown(self, broker, worker):
        stopping.set()

    def after_worker_shutdown(self, broker, worker):  # stopped: a drain run by hand in this process may claim again
        stopping.clear()


_broker.broker.add_middleware(StopClaiming())


@outbox.deliveries_committed.connect
def enqueue_committed(sender, items, hand=None):
    """Send wake-up messages for committed deliveries (wake_ups). hand(actor, *args), if given, may take a wake-up
    due now instead of the broker (tasks.local_wakeups: an idle worker thread of this process)."""
    with batched(_broker.broker):
        for actor, args, delay_ms in wake_ups(items):
            if delay_ms:
                actor.send_with_options(args=args, delay=delay_ms)
            elif not (hand and hand(actor, *args)):
                actor.send(*args)


def wake_ups(items):
    """(actor, args, delay in ms) of the wake-ups for committed deliveries, items (delivery id, delay in seconds):
    for those due now, and for those due at each later moment (to WAKE_ROUNDING), one per batch, at most WAKE_FANOUT
    (each slot woken claims more, and wakes another while there is more: pipeline.drain). A delay is rounded up,
    never down: nothing is woken before it is due."""
    moments = {}
    for delivery_id, delay in items:
        moments.setdefault(math.ceil(delay / WAKE_ROUNDING) if delay > 0 else 0, []).append(delivery_id)
    for moment, ids in moments.items():
        size = max(BATCH_SIZE, -(-len(ids) // WAKE_FANOUT))  # batches, or WAKE_FANOUT shares of a large commit
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            actor, args = (deliver_webhook, (chunk[0],)) if len(chunk) == 1 else (deliver_webhooks, (chunk,))
            yield actor, args, int(moment * WAKE_ROUNDING * 1000)


def batched(broker):
    """Wake idle consumers once for a batch of messages, where the broker supports it."""
    return broker.batched_wakeups() if isinstance(broker, WakeableRedisBroker) else nullcontext()
