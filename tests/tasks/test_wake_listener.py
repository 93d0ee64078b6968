"""The worker's listener turns the producers' NOTIFY into wake-ups, and keeps listening when its connection dies."""

import threading
from datetime import timedelta

import psycopg

from app.models import utcnow
from tasks import wake_listener
from tests.support.factories import send
from tests.support.waiting import wait_until


def listener_of(broker):
    (middleware,) = [m for m in broker.middleware if isinstance(m, wake_listener.WakeListenerMiddleware)]
    return middleware.thread


def listener_pids(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        return [pid for (pid,) in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
            (f"LISTEN {wake_listener.wake_notify.CHANNEL}",))]


def terminate(app, pids):
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        for pid in pids:
            connection.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_committed_message_is_delivered_on_its_notification_alone(wake_by_notify, app, worker, broker, receiver,
                                                                   make_endpoint):
    make_endpoint()
    wait_until(listener_of(broker).listening.is_set, message="the listener never listened")
    _, (delivery_id,) = send(app)
    (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"]


def test_the_listener_listens_again_after_its_connection_is_killed_and_wakes_for_what_it_missed(
        wake_by_notify, app, worker, broker, receiver, make_endpoint, monkeypatch):
    make_endpoint()
    listener = listener_of(broker)
    wait_until(listener.listening.is_set, message="the listener never listened")
    (old,) = wait_until(lambda: listener_pids(app))
    # Given the listener held back from connecting again until the test says so
    allowed, connect = threading.Event(), wake_listener.WakeListener._connect
    monkeypatch.setattr(wake_listener.WakeListener, "_connect", lambda self: allowed.wait(30) and connect(self))

    # When its connection is killed, and a message is committed while nobody listens
    terminate(app, [old])
    wait_until(lambda: not listener.listening.is_set(), message="the listener did not notice")
    send(app)
    assert receiver.requests == []

    # Then once it is back it wakes a slot, which delivers what it missed; and what comes next
    allowed.set()
    receiver.wait_for(1)
    assert wait_until(lambda: listener_pids(app)) != [old]
    send(app)
    receiver.wait_for(2)


def test_a_notified_moment_goes_to_the_timer(wake_by_notify, wake_timer, app, worker, broker, make_endpoint,
                                            monkeypatch):
    heard = []
    monkeypatch.setattr(wake_listener.wake_timer, "hear", heard.append)
    make_endpoint()
    wait_until(listener_of(broker).listening.is_set, message="the listener never listened")
    when = utcnow() + timedelta(hours=1)
    send(app, deliver_at=when)
    # Exactly deliver_at: the producer's notification (this process's own commit only knows its delay from now)
    wait_until(lambda: when in heard, message=lambda: f"heard {heard}")


def test_one_listener_per_database_relays_and_another_takes_over_when_it_stops(wake_by_notify, app, broker,
                                                                              make_endpoint, monkeypatch):
    make_endpoint()
    woken = []
    monkeypatch.setattr(wake_listener, "wake", woken.append)
    monkeypatch.setattr(wake_listener, "STANDBY_SECONDS", 0.05)
    monkeypatch.setattr(wake_listener.wake_timer, "reread", lambda: None)
    first, second = wake_listener.WakeListener(app), wake_listener.WakeListener(app)  # two worker processes'
    first.start()
    wait_until(first.listening.is_set, message="the first listener never listened")
    second.start()
    try:
        _, (one,) = send(app)
        wait_until(lambda: [one] in woken, message=lambda: f"woken {woken}")
        # Only the leader listens: the commit woke the workers once, not once per process
        assert len(listener_pids(app)) == 1 and first.leading and not second.leading
        assert not second.listening.is_set()

        first.stop()  # its process ends: its connection, and with it the lock, goes
        first.join(10)
        wait_until(second.listening.is_set, message="the second listener never took over")
        _, (two,) = send(app)
        wait_until(lambda: [two] in woken, message=lambda: f"woken {woken}")
        assert len(listener_pids(app)) == 1 and second.leading
    finally:
        first.stop()
        second.stop()
        first.join(10)
        second.join(10)
    assert woken.count([one]) == woken.count([two]) == 1
