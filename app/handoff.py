"""Hand a web request's committed work to the broker from a background thread, so no request waits for Redis.

The rows are committed before anything is handed over, and the broker message is only a wake-up call: if the
broker is slow or down, or the queue is full, or the process stops first, the recovery sweep sends what waited
(app.outbox). One small bounded queue and one daemon thread per process; a forked process (gunicorn's
workers) starts its own on first use.
"""

import atexit
import logging
import os
import queue
import threading

log = logging.getLogger(__name__)

#: Commits waiting for the broker at most, per process; past it they are left to the sweep.
QUEUE_SIZE = 1000
#: How long a stopping process goes on handing over what is queued, in seconds.
DRAIN_SECONDS = 5.0


class Handoff:
    """A bounded queue of (app, send, pending) and the thread that runs send(pending) in an app context."""

    def __init__(self, size=QUEUE_SIZE):
        self.size = size
        self._lock = threading.Lock()
        self._pid = None
        self._queue = None

    def submit(self, app, send, pending):
        """Queue send(pending) to run in app's context; return False (left to the sweep) when the queue is full."""
        try:
            self._started().put_nowait((app, send, pending))
        except queue.Full:
            return False
        return True

    def drain(self, timeout=DRAIN_SECONDS):
        """Wait until everything queued so far was handed over, or timeout seconds; return True if it was."""
        if self._queue is None or self._pid != os.getpid():
            return True
        done = threading.Event()
        try:
            self._queue.put((None, lambda _: done.set(), None), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _started(self):
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (or a fork of the one that started it)
                self._queue = queue.Queue(self.size)
                self._pid = os.getpid()
                threading.Thread(target=self._run, args=(self._queue,), name="broker-handoff", daemon=True).start()
            return self._queue

    @staticmethod
    def _run(waiting):
        while True:
            for app, send, pending in _coalesced(waiting):
                _hand_over(app, send, pending)


def _coalesced(waiting):
    """The next queued item, merged with those queued behind it for the same app and send: a burst of commits is
    handed over in as few broker calls as the queue lets pile up, in order. pending is {name: [items]}."""
    merged = [waiting.get()]
    while len(merged) < QUEUE_SIZE:
        try:
            app, send, pending = waiting.get_nowait()
        except queue.Empty:
            break
        last_app, last_send, last_pending = merged[-1]
        if app is not None and app is last_app and send is last_send and isinstance(pending, dict):
            merged[-1] = (app, send, {name: last_pending.get(name, []) + pending.get(name, [])
                                      for name in {**last_pending, **pending}})
        else:
            merged.append((app, send, pending))
    return merged


def _hand_over(app, send, pending):
    try:
        if app is None:
            send(pending)
        else:
            with app.app_context():
                send(pending)
    except Exception:  # noqa: BLE001  the rows are committed: the sweep sends them; keep the thread alive
        log.exception("could not hand committed work to the broker; the sweep will")


#: This process's hand-off (app.outbox uses it for web requests).
handoff = Handoff()
atexit.register(handoff.drain)
