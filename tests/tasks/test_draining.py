"""While slots of a worker process drain, the listener's wake-ups are given to them (tasks.draining) instead of waking
one more slot each; none is lost, and none waits for a slot in a long send."""

import threading
import time

import pytest
from dramatiq.middleware import Middleware

from app.delivery.attempt import pipeline
from app.models import DeliveryStatus
from tasks import draining as draining_module
from tasks.draining import Draining
from tests.support.factories import load, send
from tests.support.waiting import wait_until
from tests.tasks.test_local_wakeups import WAKE_UPS
from tests.tasks.test_wake_listener import listener_of


class Woken:
    """wake_again for a Draining: records the ids it was asked to wake a slot for."""

    def __init__(self):
        self.calls = []

    def __call__(self, delivery_ids):
        self.calls.append(list(delivery_ids))


def test_a_lone_draining_slot_is_not_given_wake_ups():
    draining, woken = Draining(), Woken()
    with draining.slot(woken):
        assert not draining.coalesce(["d-1"])  # an idle thread sends it at once


def test_a_slot_that_would_stop_takes_what_was_given_meanwhile_and_only_then_stops():
    draining, woken = Draining(), Woken()
    with draining.slot(woken) as first, draining.slot(woken):
        assert draining.coalesce(["d-1"]) and draining.coalesce(["d-2"])
        assert first.leave() == ["d-1", "d-2"]  # it claims again, after they were given
        assert first.leave() is None  # nothing more given: it stops, and is no longer counted
        assert not draining.coalesce(["d-3"])  # one slot left draining: too few
    assert woken.calls == []


def test_a_round_takes_what_was_given_and_the_slot_stays_counted():
    draining, woken = Draining(), Woken()
    with draining.slot(woken) as first, draining.slot(woken):
        assert first.absorb() is None
        assert draining.coalesce([])  # a wake-up naming nothing: drain what is due
        assert first.absorb() == []
        assert draining.coalesce(["d-1"])


def test_slots_in_long_sends_are_not_given_wake_ups(monkeypatch):
    draining, woken = Draining(), Woken()
    with draining.slot(woken) as first, draining.slot(woken) as second:
        first.sending(True)
        second.sending(True)
        assert draining.coalesce(["d-1"])  # both sends just began: they end soon
        assert first.leave() == ["d-1"]
        monkeypatch.setattr(draining_module, "COALESCE_SECONDS", 0)  # now both sends began too long ago
        assert not draining.coalesce(["d-2"])
        second.sending(False)
        assert draining.coalesce(["d-2"])


def test_the_last_slot_to_end_wakes_another_for_what_is_still_given():
    draining, woken = Draining(), Woken()
    with pytest.raises(RuntimeError), draining.slot(woken):
        with draining.slot(woken):
            assert draining.coalesce(["d-1"])
        assert woken.calls == []  # another slot still drains: it takes it
        raise RuntimeError("the slot failed")
    assert woken.calls == [["d-1"]]
    assert not draining.coalesce(["d-2"])


def test_a_wake_up_no_slot_takes_in_time_is_taken_back(monkeypatch):
    draining, woken = Draining(), Woken()
    with draining.slot(woken), draining.slot(woken):
        assert draining.wait_seconds(1.0) == 1.0
        assert draining.coalesce(["d-1"])
        assert 0 <= draining.wait_seconds(1.0) <= draining_module.COALESCE_SECONDS
        monkeypatch.setattr(draining_module, "COALESCE_SECONDS", 0)
        assert draining.overdue() == ["d-1"]
        assert draining.overdue() is None


class Given:
    """pipeline.drain's wakeups: gives given(), once, to the slot when it would stop; records what it gave back."""

    def __init__(self, given):
        self.given, self.given_back, self.sends = given, [], []

    def absorb(self):
        return None

    def leave(self):
        given, self.given = self.given, None
        return given() if given else None

    def sending(self, started):
        self.sends.append(started)

    def give_back(self, delivery_ids):
        self.given_back.append(list(delivery_ids))


def test_a_slot_that_would_stop_sends_what_a_wake_up_given_to_it_names(app, make_endpoint, receiver):
    make_endpoint()
    _, (first,) = send(app)
    later = []
    wakeups = Given(lambda: later.extend(send(app)[1]) or list(later))  # committed as the slot is about to stop
    with app.app_context():
        results = pipeline.drain([first], limit=20, wakeups=wakeups)
    assert len(results) == 2 and len(receiver.wait_for(2)) == 2
    assert load(app, later[0]).status is DeliveryStatus.SUCCEEDED
    assert wakeups.sends == [True, False, True, False]


def test_hints_taken_and_not_looked_at_go_back_when_the_slot_stops(app, make_endpoint, receiver):
    make_endpoint()
    stop = threading.Event()
    wakeups = Given(lambda: stop.set() or ["d-unseen"])
    with app.app_context():
        pipeline.drain([], limit=20, stopping=stop.is_set, wakeups=wakeups)
    assert wakeups.given_back == [["d-unseen"]]


@pytest.fixture
def processed(broker):
    """The wake-up messages the worker processes, as the delivery ids each names."""

    class Spy(Middleware):
        def __init__(self):
            self.args = []

        def before_process_message(self, broker, message):
            if message.actor_name in WAKE_UPS:
                (named,) = message.args
                self.args.append([named] if isinstance(named, str) else list(named))

    spy = Spy()
    broker.add_middleware(spy)
    yield spy.args
    broker.middleware.remove(spy)


def settled(broker):
    """Wait until the listener listens and the slot its first wake-up woke has ended (it could take what a test
    commits next, and then a wake-up of the test's would go to it)."""
    wait_until(listener_of(broker).listening.is_set, message="the listener never listened")
    wait_until(lambda: not draining_module.draining._slots, message="the listener's first wake-up never ended")


@pytest.fixture
def one_is_enough(monkeypatch):
    monkeypatch.setattr(draining_module, "COALESCE_AT", 1)


def test_a_delivery_committed_while_a_slot_drains_is_sent_by_that_slot(one_is_enough, monkeypatch, wake_by_notify,
                                                                       app, worker, broker, receiver, make_endpoint,
                                                                       processed):
    monkeypatch.setattr(draining_module, "COALESCE_SECONDS", 300)  # the held send stays a short one meanwhile
    release = threading.Event()
    receiver.answer = lambda received: release.wait(30) and None
    make_endpoint(timeout_seconds=app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"])
    settled(broker)
    try:
        _, (first,) = send(app)
        wait_until(lambda: receiver.in_flight == 1, message="the first webhook was never sent")
        _, (second,) = send(app)
        wait_until(lambda: draining_module.draining._given == [second], message="the wake-up was not given")
    finally:
        release.set()
    receiver.wait_for(2)
    wait_until(lambda: load(app, second).status is DeliveryStatus.SUCCEEDED, message="the second was not recorded")
    assert [first] in processed  # a slot woken for the first took the second's wake-up itself
    assert not [named for named in processed if second in named]


def test_a_slot_in_a_long_send_leaves_a_new_delivery_to_an_idle_thread(one_is_enough, wake_by_notify, app, worker,
                                                                      broker, receiver, make_endpoint, processed):
    release, answered = threading.Event(), []

    def answer(received):  # the first request waits until released
        answered.append(received)
        if len(answered) == 1:
            release.wait(30)

    receiver.answer = answer
    make_endpoint(timeout_seconds=app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"])
    settled(broker)
    try:
        send(app)
        wait_until(lambda: receiver.in_flight == 1, message="the first webhook was never sent")
        slots = draining_module.draining._slots
        wait_until(lambda: slots and not any(slot.taking(time.monotonic()) for slot in slots),
                   message="the send never became a long one")
        _, (second,) = send(app)
        wait_until(lambda: load(app, second).status is DeliveryStatus.SUCCEEDED,
                   message="the second waited for the first's send")
    finally:
        release.set()
    receiver.wait_for(2)
    assert [second] in processed  # its own wake-up, to an idle thread
