"""Wake-ups a worker process hands to its own idle worker threads, without a broker round trip.

The NOTIFY listener (tasks.wake_listener) runs inside a worker process. A broker message for each of its wake-ups
cost that process four Redis round trips (the enqueue and its wake-up push, the consumer's fetch, the ack): about a
fifth of a worker's CPU when events come one at a time. When one of this process's worker threads is idle, the
wake-up is put straight on the worker's own work queue instead: it runs through the same middleware as a broker
message (time limit, retries, the app context), and acknowledging it is nothing. Otherwise (every thread busy, no
worker in this process, or a broker whose consumer does not know such messages) it goes through the broker as
before, so that another process takes it.

A wake-up records nothing (the database does): one lost with its process is made up for as a lost broker message
is, by the next listener's wake-up on start and by the recovery sweep. One that fails is retried through the
broker (Dramatiq's Retries enqueues it there); one still queued when the worker stops is enqueued on the broker
(tasks.redis_wakeup requeue), so that another process takes it.
"""

import threading

from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from dramatiq.worker import _WorkQueueItem

from tasks.tripwires import require_dramatiq

# IMPORTANT: hand() puts a _WorkQueueItem (private) on Worker.work_queue, which worker threads take as they take
# the consumers' messages.
require_dramatiq("tasks.local_wakeups.LocalWakeups.hand (dramatiq.worker._WorkQueueItem on Worker.work_queue)")


class LocalMessage(MessageProxy):
    """A message handed to this process's worker threads directly: it was never fetched, so nothing acknowledges
    it (tasks.redis_wakeup._WakeableConsumer)."""


class LocalWakeups(Middleware):
    """Counts this process's busy worker threads, and hands a wake-up to an idle one (see module docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._worker = None
        self._busy = 0

    def after_worker_boot(self, broker, worker):
        self._worker = worker

    def before_worker_shutdown(self, broker, worker):
        self._worker = None  # stopping: wake-ups go to the broker, for another process

    def before_process_message(self, broker, message):
        with self._lock:
            self._busy += 1

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self._lock:
            self._busy -= 1

    after_skip_message = after_process_message

    def hand(self, actor, *args):
        """Put a message for actor(*args) on this process's work queue if a worker thread is idle; whether it did."""
        worker = self._worker
        if worker is None:
            return False
        with self._lock:
            if self._busy + worker.work_queue.qsize() >= worker.worker_threads:
                return False
            worker.work_queue.put(_WorkQueueItem(actor.priority, LocalMessage(actor.message(*args))))
        return True


#: This process's one LocalWakeups (a worker process runs one Dramatiq worker).
wakeups = LocalWakeups()


def install(broker):
    """Add wakeups to broker when its consumer knows LocalMessages (tasks.redis_wakeup); return whether it did."""
    if not getattr(broker, "takes_local_messages", False):
        return False
    broker.add_middleware(wakeups)
    return True


def hand(actor, *args):
    """Hand actor(*args) to an idle worker thread of this process (LocalWakeups.hand); whether it did."""
    return wakeups.hand(actor, *args)
