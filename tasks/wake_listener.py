"""The worker side of the NOTIFY wake-up (app.delivery.wake_notify): a thread per worker process that LISTENs and
wakes this process's slots.

Notifications that arrive together are taken at once and turned into one wake-up (tasks.deliveries
enqueue_committed: at most a few messages, however many commits), sent from here, not from the producer's
commit: to an idle worker thread of this process when there is one (tasks.local_wakeups), else through the
broker. A notification naming a moment (deliveries due later) goes to this process's wake timer (tasks.wake_timer).
On a lost connection it connects again, backing off, and wakes once after (and once at start): whatever was
notified while nobody listened is due, and the claim finds it; the timer reads again what is due later. It never
takes the worker down; the recovery sweep stays the safety net.

One listener per database relays: every worker process runs one, but only the one holding LEADER_LOCK (a
PostgreSQL advisory lock on its connection) LISTENs; the others try for the lock every STANDBY_SECONDS. Otherwise
each commit would wake slots once per worker process, and all but one would find nothing to claim. The lock goes
with its connection, so when the leader's process or connection dies another takes over within STANDBY_SECONDS,
and wakes once for what it missed, as after any reconnection.
"""

import logging
import threading

from app.delivery import wake_notify
from app.extensions import db
from tasks import wake_timer
from tasks.background import BackgroundThreadMiddleware
from tasks.deliveries import wake_now
from tasks.draining import draining

log = logging.getLogger(__name__)

#: Seconds a wait for notifications lasts before it looks whether the worker is stopping.
WAIT_SECONDS = 1.0
#: Seconds before the first attempt to connect again after losing the connection, doubled up to the last.
RECONNECT_SECONDS = (0.2, 10.0)
#: The advisory lock (per database) whose holder is the one listener that relays.
LEADER_LOCK = 0x686F6F6B79617264  # "hookyard"
#: Seconds a listener without the lock waits before trying for it again.
STANDBY_SECONDS = 2.0


class WakeListener(threading.Thread):
    """LISTEN on wake_notify.CHANNEL with a connection of its own (autocommit), waking the workers until stopped."""

    def __init__(self, app):
        super().__init__(name="wake-listener", daemon=True)
        self.app = app
        self._stopped = threading.Event()
        #: Set each time it is listening (again), once it has woken the slots for what it missed: tests wait on it.
        self.listening = threading.Event()
        #: Whether it holds LEADER_LOCK (the others stand by).
        self.leading = False

    def run(self):
        backoff, failing = RECONNECT_SECONDS[0], False
        while not self._stopped.is_set():
            connection = None
            try:
                connection = self._connect()
                backoff, failing = RECONNECT_SECONDS[0], False
                if not self._lead(connection):
                    break  # stopped while standing by
                wake([])  # what was notified while nobody listened is due: the claim finds it
                wake_timer.reread()  # and what it was told is due later, the timer reads
                self.listening.set()  # listening, and caught up with what it missed
                self._relay(connection)
            except Exception as exc:  # noqa: BLE001  never take the worker down: connect again, the sweep backs us
                self.listening.clear()
                if not failing:  # one line per outage, not one per attempt
                    log.warning("wake-up listener lost its database connection (%s); connecting again", exc)
                failing = True
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_SECONDS[1])
            finally:
                self.leading = False
                if connection is not None:
                    connection.close()  # and with it the lock: another listener takes over
        self.listening.clear()

    def _connect(self):
        """A connection of the app's engine, taken out of its pool, in autocommit, listening."""
        with self.app.app_context():
            pooled = db.engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()  # its own from now on: the pool opens another in its place
        connection.rollback()  # IMPORTANT: autocommit cannot be set inside a transaction
        connection.autocommit = True
        return connection

    def _lead(self, connection):
        """Wait until this listener holds LEADER_LOCK, then LISTEN; False if stopped first."""
        self.leading = False
        while not connection.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()[0]:
            if self._stopped.wait(STANDBY_SECONDS):
                return False
        connection.execute(f"LISTEN {wake_notify.CHANNEL}")
        self.leading = True
        return True

    def _relay(self, connection):
        while not self._stopped.is_set():
            arrived = list(connection.notifies(timeout=draining.wait_seconds(WAIT_SECONDS), stop_after=1))
            if arrived:
                arrived += connection.notifies(timeout=0)  # and whatever arrived with it: one wake-up for all
                due = [delivery_id for notify in arrived for delivery_id in wake_notify.delivery_ids(notify.payload)]
                if due:
                    wake(due)
                for moment in filter(None, (wake_notify.moment(notify.payload) for notify in arrived)):
                    wake_timer.hear(moment)  # deliveries due later: this process's timer wakes the slots then
            overdue = draining.overdue()  # given to the draining slots, and none took them in time: hand them on
            if overdue is not None:
                wake_now(overdue)

    def stop(self):
        self._stopped.set()


def wake(delivery_ids):
    """Wake slots for delivery_ids (due now; none: one slot to drain what is due): the slots of this process already
    draining, while enough of them drain (tasks.draining), else a slot of this process's own when one is idle
    (tasks.local_wakeups), else through the broker (tasks.deliveries.wake_now)."""
    if not draining.coalesce(delivery_ids):
        wake_now(delivery_ids)


class WakeListenerMiddleware(BackgroundThreadMiddleware):
    """Run a WakeListener in this worker process while it is up, when WEBHOOK_WAKE_BY_NOTIFY is on."""

    setting = "WEBHOOK_WAKE_BY_NOTIFY"
    join_seconds = WAIT_SECONDS * 2  # it notices within one wait, then closes its connection

    def make_thread(self):
        return WakeListener(self.app)
