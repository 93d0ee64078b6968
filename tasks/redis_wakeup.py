"""A Redis broker whose idle consumers wait for a wake-up instead of polling with a growing backoff.

Dramatiq's Redis consumer, finding its queue empty, sleeps 5 ms, then 10, 20 ... up to the worker
timeout (1 s) between polls: a webhook arriving at an idle worker waits half a second on average.
Here every enqueue also pushes a token onto a short per-queue list, and an idle consumer blocks on
that list (BLPOP) for up to the worker timeout: it wakes as soon as work arrives and makes one call
a second while idle.
"""

import threading
import time
from contextlib import contextmanager

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.message import Message

from app import outages
from tasks.tripwires import require_dramatiq

# IMPORTANT: _WakeableConsumer.__next__ is a rewrite of _RedisConsumer.__next__, a private method.
require_dramatiq("tasks.redis_wakeup._WakeableConsumer (a rewrite of dramatiq.brokers.redis._RedisConsumer.__next__)")

from tasks.local_wakeups import LocalMessage  # noqa: E402  after the tripwire that names this module

#: Tokens kept per queue; more would only wake consumers that find nothing.
MAX_WAKEUPS = 64


class WakeableRedisBroker(RedisBroker):
    """RedisBroker plus a wake-up list per queue (see module docstring)."""

    #: Its consumer acknowledges nothing for a message a worker process handed itself (tasks.local_wakeups).
    takes_local_messages = True

    @property
    def consumer_class(self):
        return _WakeableConsumer

    _batch = threading.local()

    def wakeup_key(self, queue_name):
        return f"{self.namespace}:{queue_name}.wakeup"

    def enqueue(self, message, *, delay=None):
        message = super().enqueue(message, delay=delay)
        pending = getattr(self._batch, "queues", None)
        if pending is None:
            self._wake({message.queue_name: 1})
        else:
            pending[message.queue_name] = pending.get(message.queue_name, 0) + 1
        return message

    @contextmanager
    def batched_wakeups(self):
        """Push the wake-up tokens of the messages enqueued inside, at most MAX_WAKEUPS a queue, at the end."""
        self._batch.queues = {}
        try:
            yield
        finally:
            queues, self._batch.queues = self._batch.queues, None
            if queues:
                self._wake(queues)

    def _wake(self, counts):
        pipe = self.client.pipeline(transaction=False)
        for queue_name, count in counts.items():
            key = self.wakeup_key(queue_name)
            pipe.lpush(key, *[1] * min(count, MAX_WAKEUPS))
            pipe.ltrim(key, 0, MAX_WAKEUPS - 1)
        pipe.execute()


class _WakeableConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer with its idle backoff replaced by a wait on the queue's wake-up list."""

    #: While this consumer's prefetch is full, how long to pause before looking again (local state only).
    BUSY_PAUSE_SECONDS = 0.005

    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.idle_wait_seconds = max(timeout / 1000, 0.01)
        self.wakeup_key = broker.wakeup_key(queue_name)

    def ack(self, message):
        if not isinstance(message, LocalMessage):  # a local one was never fetched: nothing to acknowledge
            super().ack(message)

    def nack(self, message):
        if not isinstance(message, LocalMessage):
            super().nack(message)

    def requeue(self, messages):
        """Messages still queued when the worker stops: fetched ones back to their queue, local ones enqueued (they
        were never in Redis), so that another process takes them."""
        super().requeue([message for message in messages if not isinstance(message, LocalMessage)])
        for message in messages:
            if isinstance(message, LocalMessage):
                self.broker.enqueue(message._message)

    def __next__(self):
        # The parent's loop, except for what happens when there is nothing to hand out: wait on the wake-up
        # list only when a fetch really came back empty. (Other threads acknowledge messages meanwhile, so
        # "fewer in flight than prefetch" observed afterwards does not mean the queue was empty.)
        started = time.monotonic()
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:  # a message deleted meanwhile (dramatiq #266)
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                if self.outstanding_message_count >= self.prefetch:
                    time.sleep(self.BUSY_PAUSE_SECONDS)  # return, so the worker can acknowledge what is done
                    return None
                self.message_cache = self.broker.do_fetch(self.queue_name,
                                                          self.prefetch - self.outstanding_message_count)
                outages.broker.succeeded()  # one line when an outage ends
                if not self.message_cache:
                    self.broker.client.blpop([self.wakeup_key], timeout=self.idle_wait_seconds)
                    return None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Redis down or frozen: one line per outage for every consumer of this process (Dramatiq would log a
            # critical line, or a traceback for a timeout, per consumer and second), then look again. redis-py
            # reconnects by itself on the next call.
            outages.broker.failed(exc, started=started)  # begun before Redis came back: not a new outage
            time.sleep(self.idle_wait_seconds)
            return None
