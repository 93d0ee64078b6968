"""A timer per worker process that wakes the claim at the moment the next pending delivery is due
(WEBHOOK_WAKE_TIMER).

A delivery due later (a deliver_at, a retry) gets one delayed broker message from the outbox, which the broker's
delay queue hands over some hundreds of milliseconds late. The timer knows the earliest moment a pending delivery is
due after now (app.delivery.scheduling.next_due_after): it reads it when it starts, after each wake-up, every
REREAD_SECONDS, and when its listener connects again; and it hears of work due sooner from this process's own
commits (the outbox's deliveries_committed) and from the producers' NOTIFY (tasks.wake_listener hands it the
moment). It sleeps until then and wakes WAKE_FANOUT slots, which claim what is due (a claim never takes a scheduled
delivery before its time). The delayed broker message and the recovery sweep stay the fallback: a timer whose
database or broker fails only logs (once per outage) and reads again.
"""

import logging
import threading
import time
from datetime import timedelta

from app import outages, outbox
from app.delivery import scheduling
from app.models import utcnow
from tasks import broker as _broker
from tasks.background import BackgroundThreadMiddleware
from tasks.deliveries import WAKE_FANOUT, batched, deliver_webhooks

log = logging.getLogger(__name__)

#: Seconds between reads of the next due moment when nothing was heard (a producer that does not notify).
REREAD_SECONDS = 5.0
#: Seconds before reading again after the database failed.
RETRY_SECONDS = 1.0

#: The timers running in this process (one per worker; the listener and the outbox tell each).
_running = set()


class WakeTimer(threading.Thread):
    """Sleep until the next pending delivery is due and wake slots then, until stopped (see module docstring)."""

    def __init__(self, app):
        super().__init__(name="wake-timer", daemon=True)
        self.app = app
        self._changed = threading.Condition()
        self._stopped = False
        self._heard = None  # the earliest moment heard of since the last look
        self._reread_at = 0.0  # time.monotonic() of the next read from the database
        self._woken_at = None  # when it last woke the slots (or started): it reads what is due after
        #: The moment it sleeps until (None: nothing pending is due later, as far as it knows).
        self.next_due = None
        #: Set once it has read the database: tests wait on it.
        self.ready = threading.Event()

    def hear(self, moment):
        """Take note that a delivery is due at moment (an aware datetime)."""
        with self._changed:
            if self._heard is None or moment < self._heard:
                self._heard = moment
                self._changed.notify()

    def reread(self):
        """Read the next due moment from the database again, now."""
        with self._changed:
            self._reread_at = 0.0
            self._changed.notify()

    def stop(self):
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def run(self):
        _running.add(self)
        try:
            self._woken_at = utcnow()
            wake_slots()  # what fell due while no timer ran: the claim finds it
            while not self._stopped:
                self._step()
        finally:
            _running.discard(self)

    def _step(self):
        """Look at what is due next; wake the slots if its time has come, else sleep until it (or news)."""
        self._look()
        now = utcnow()
        if self.next_due is not None and self.next_due <= now:
            # IMPORTANT: now is taken before the wake-up: the slots it wakes claim what is due by then, and the read
            # that follows looks after it (a slot may claim before this thread reads: nothing falls between).
            self._woken_at, self.next_due, self._reread_at = now, None, 0.0
            wake_slots()
            return
        wait = self._reread_at - time.monotonic()
        if self.next_due is not None:
            wait = min(wait, (self.next_due - now).total_seconds())
        with self._changed:
            if self._heard is None and not self._stopped and self._reread_at:
                self._changed.wait(max(wait, 0.0))

    def _look(self):
        """Merge what was heard into next_due, and read the database when it is time to."""
        with self._changed:
            heard, self._heard = self._heard, None
        if time.monotonic() >= self._reread_at:
            self._read()
        if heard is not None and (self.next_due is None or heard < self.next_due):
            self.next_due = heard

    def _read(self):
        """Set next_due to the earliest moment a pending delivery is due after the last wake-up, from the database."""
        started = time.monotonic()
        try:
            with self.app.app_context():
                self.next_due = scheduling.next_due_after(self._woken_at)
        except Exception as exc:  # noqa: BLE001  never take the worker down: the delayed messages and the sweep back it
            if not outages.report_database(exc, started):
                log.exception("wake timer could not read when the next delivery is due")
            self._reread_at = time.monotonic() + RETRY_SECONDS
            return
        outages.database.succeeded()
        self._reread_at = time.monotonic() + REREAD_SECONDS
        self.ready.set()


def wake_slots():
    """Wake WAKE_FANOUT slots of the workers to drain what is due (a broker failure is logged once per outage)."""
    started = time.monotonic()
    try:
        with batched(_broker.broker):
            for _ in range(WAKE_FANOUT):
                deliver_webhooks.send([])
    except Exception as exc:  # noqa: BLE001  the deliveries are committed: the sweep sends them
        outages.broker.failed(exc, started=started)


def hear(moment):
    """Tell this process's timers that a delivery is due at moment."""
    for timer in list(_running):
        timer.hear(moment)


def reread():
    """Have this process's timers read the next due moment again (what they were told may have been missed)."""
    for timer in list(_running):
        timer.reread()


@outbox.deliveries_committed.connect
def hear_committed(sender, items):
    """Tell this process's timers when the deliveries it committed for later are due (retries, scheduled)."""
    delays = [delay for _, delay in items if delay > 0]
    if delays and _running:
        hear(utcnow() + timedelta(seconds=min(delays)))


class WakeTimerMiddleware(BackgroundThreadMiddleware):
    """Run a WakeTimer in this worker process while it is up, when WEBHOOK_WAKE_TIMER is on."""

    setting = "WEBHOOK_WAKE_TIMER"

    def make_thread(self):
        return WakeTimer(self.app)
