"""The slots of this worker process that are draining, and the wake-ups the NOTIFY listener gives them instead of
waking one more slot.

While events come faster than the slots already draining send them, a wake-up per event woke one more slot each
time, whose claim found the event's endpoint at its share (its own slots take its deliveries) or the event already
taken, and which then asked the database about the event again for the gated path: a Dramatiq message, an empty
claim and a check, for nothing, for most events of a fast trickle (bench/README: 0.9 claims and 0.6 checks per
delivery). So while at least COALESCE_AT slots of this process drain, one of them not in a send begun more than
COALESCE_SECONDS ago (a slot in a slow partner's long send will not take a wake-up soon, and another endpoint's
event must not wait for it), the listener gives its wake-ups to them (coalesce): after each round a draining slot
takes the wake-ups given meanwhile (Slot.absorb), their ids hints as a wake-up's own (pipeline.drain), and claims
again.

Nothing given is lost. A slot stops only through Slot.leave, which, under the same lock as coalesce, either hands it
the wake-ups given meanwhile (it claims again, after they were given, so its claim sees what they were given for)
or takes it off the draining slots (none is given to it from then on); the last slot to end any other way (the
worker stopping, an error) wakes another slot for what is still given, and a slot wakes another for the hints it
took and did not check. A wake-up that no slot took within COALESCE_SECONDS (every draining slot is in a long send:
a slow partner) is handed on by the listener as before (overdue), so another endpoint's event waits that long at
most. A wake-up lost with its process is made up for as a lost broker message is (the recovery sweep).
"""

import threading
import time
from contextlib import contextmanager

#: The listener gives its wake-ups to the draining slots while at least this many drain (fewer: a lone event is
#: sent by an idle thread at once, not after the send in progress).
COALESCE_AT = 2
#: Seconds a wake-up given to the draining slots waits at most for one to take it.
COALESCE_SECONDS = 0.01


class Draining:
    """This process's draining slots (see module docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._slots = set()  # the Slots counted as draining
        self._given = None  # the delivery ids of the wake-ups given and not taken yet; None: none given
        self._since = None  # when the first of them was given (time.monotonic())

    def coalesce(self, delivery_ids):
        """Give a wake-up for delivery_ids (due now; none: drain what is due) to the draining slots, if at least
        COALESCE_AT drain and one of them is not in a send begun over COALESCE_SECONDS ago; whether it did."""
        with self._lock:
            now = time.monotonic()
            if len(self._slots) < COALESCE_AT or not any(slot.taking(now) for slot in self._slots):
                return False
            if self._given is None:
                self._given, self._since = [], now
            self._given.extend(delivery_ids)
            return True

    def overdue(self):
        """Take back the wake-ups no slot took within COALESCE_SECONDS: their delivery ids, or None."""
        with self._lock:
            if self._given is None or time.monotonic() - self._since < COALESCE_SECONDS:
                return None
            return self._take()

    def wait_seconds(self, longest):
        """How long the listener may wait for notifications before it must look for overdue wake-ups (<= longest)."""
        with self._lock:
            if self._given is None:
                return longest
            return max(0.0, min(longest, self._since + COALESCE_SECONDS - time.monotonic()))

    @contextmanager
    def slot(self, wake_again):
        """Count the calling worker thread as a draining slot while the block runs; yield its Slot. wake_again(ids)
        wakes another slot (not through coalesce)."""
        slot = Slot(self, wake_again)
        with self._lock:
            self._slots.add(slot)
        try:
            yield slot
        finally:
            slot.close()

    def _take(self):
        given, self._given, self._since = self._given, None, None
        return given


class Slot:
    """One draining slot's side of Draining: what pipeline.drain calls as its wakeups."""

    def __init__(self, draining, wake_again):
        self._draining, self._wake_again = draining, wake_again
        self._sending_since = None  # when its send in progress began (time.monotonic()), None between sends

    def sending(self, started):
        """The slot begins a send (started: True) or ended one (False)."""
        self._sending_since = time.monotonic() if started else None

    def taking(self, now):
        """Whether the slot may take a wake-up soon: not in a send begun over COALESCE_SECONDS ago."""
        since = self._sending_since
        return since is None or now - since < COALESCE_SECONDS

    def absorb(self):
        """After a round: take the wake-ups given meanwhile (the slot claims again); their delivery ids, or None."""
        with self._draining._lock:
            return self._draining._take() if self._draining._given is not None else None

    def leave(self):
        """Before stopping: take the wake-ups given meanwhile (the slot claims again; their delivery ids), or, when
        none were, stop counting as draining (None: the slot may stop)."""
        draining = self._draining
        with draining._lock:
            if draining._given is not None:
                return draining._take()
            draining._slots.discard(self)
            return None

    def give_back(self, delivery_ids):
        """Wake another slot for hints this slot took and did not check (it stops)."""
        self._wake_again(list(delivery_ids))

    def close(self):
        """The slot ended: if it was the last one draining, wake another slot for what is still given."""
        draining, left = self._draining, None
        with draining._lock:
            draining._slots.discard(self)
            if not draining._slots and draining._given is not None:
                left = draining._take()
        if left is not None:
            self._wake_again(left)


#: This process's draining slots.
draining = Draining()
