"""The producer's commit needs no broker: its transaction notifies the workers, whose listeners wake them. Real
processes on PostgreSQL and Redis."""

import psycopg

from tests.support.processes import free_port, produce
from tests.support.waiting import wait_until

#: Long enough that no sweep runs during the test: only a wake-up can have sent a delivery.
SWEEP_INTERVAL_SECONDS = "600"
LISTEN = "LISTEN hookyard_deliveries"


def listeners(database):
    """The backend pids of the workers' listeners."""
    return sorted(pid for (pid,) in database._query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = %s", (LISTEN,)))


def test_a_message_committed_by_a_producer_without_a_broker_is_delivered_at_once(worker_env, processes, receiver,
                                                                                  database):
    # Given a worker that never sweeps, listening
    env = {**worker_env, "WEBHOOK_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL_SECONDS}
    processes.start_worker(env)
    wait_until(lambda: len(listeners(database)) == 1, 30, message=processes.describe)

    # When a producer whose broker URL leads nowhere sends a message and commits
    producer = {**env, "BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    ids = produce(producer, receiver.url(), 1)["delivery_ids"]

    # Then it is delivered within seconds: the commit woke the worker by itself
    wait_until(lambda: database.all_have(ids, "succeeded"), 10,
               message=lambda: database.describe(ids) + processes.describe())


def test_a_listener_whose_connection_is_killed_listens_again_and_delivers(worker_env, processes, receiver, database):
    env = {**worker_env, "WEBHOOK_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL_SECONDS}
    processes.start_worker(env)
    (old,) = wait_until(lambda: listeners(database), 30, message=processes.describe)

    # When the database ends the listener's connection
    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", (old,))

    # Then the worker listens again on a new connection, and a message committed after is delivered at once
    wait_until(lambda: listeners(database) not in ([], [old]), 30, message=processes.describe)
    producer = {**env, "BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    ids = produce(producer, receiver.url(), 1)["delivery_ids"]
    wait_until(lambda: database.all_have(ids, "succeeded"), 10,
               message=lambda: database.describe(ids) + processes.describe())


def test_messages_notified_while_no_worker_listened_are_sent_when_a_worker_starts(worker_env, processes, receiver,
                                                                                    database):
    # Given messages committed while no worker runs: their notifications went to nobody
    env = {**worker_env, "WEBHOOK_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL_SECONDS}
    ids = produce({**env, "BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}, receiver.url(), 3)["delivery_ids"]
    assert database.all_have(ids, "pending")

    # When a worker that never sweeps starts, they are sent at once: its listener wakes it when it begins to listen
    processes.start_worker(env)
    wait_until(lambda: database.all_have(ids, "succeeded"), 15,
               message=lambda: database.describe(ids) + processes.describe())
