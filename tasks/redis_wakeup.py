"""A Redis broker whose idle consumers wait for a wake-up instead of polling with a growing backoff.

Dramatiq's Redis consumer, finding its queue empty, sleeps 5 ms, then 10, 20 ... up to the worker
timeout (1 s) between polls: a webhook arriving at an idle worker waits half a second on average.
Here every enqueue also pushes a token onto a short per-queue list, and an idle consumer blocks on
that list (BLPOP) for up to the worker timeout: it wakes as soon as work arrives and makes one call
a second while idle.
"""

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed

#: Tokens kept per queue; more would only wake consumers that find nothing.
MAX_WAKEUPS = 64


class WakeableRedisBroker(RedisBroker):
    """RedisBroker plus a wake-up list per queue (see module docstring)."""

    @property
    def consumer_class(self):
        return _WakeableConsumer

    def wakeup_key(self, queue_name):
        return f"{self.namespace}:{queue_name}.wakeup"

    def enqueue(self, message, *, delay=None):
        message = super().enqueue(message, delay=delay)
        key = self.wakeup_key(message.queue_name)
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(key, 1)
        pipe.ltrim(key, 0, MAX_WAKEUPS - 1)
        pipe.execute()
        return message


class _WakeableConsumer(_RedisConsumer):
    def __init__(self, broker, queue_name, prefetch, timeout):
        # IMPORTANT: the parent sleeps with a backoff capped by its timeout after an empty fetch; a 1 ms
        # cap makes that sleep negligible, and the wait happens on the wake-up list instead.
        super().__init__(broker, queue_name, prefetch, 1)
        self.idle_wait_seconds = max(timeout / 1000, 0.01)
        self.wakeup_key = broker.wakeup_key(queue_name)

    def __next__(self):
        message = super().__next__()
        # Wait only when a fetch found the queue empty, not when this consumer is busy (prefetch full).
        if message is None and not self.message_cache and self.outstanding_message_count < self.prefetch:
            try:
                self.broker.client.blpop([self.wakeup_key], timeout=self.idle_wait_seconds)
            except redis.ConnectionError as exc:
                raise ConnectionClosed(exc) from None
        return message
