"""Scheduled deliveries are sent at their time by the worker's wake timer, with no broker message at all, and never
before it. Real processes on PostgreSQL and Redis."""

from tests.support.processes import free_port, produce
from tests.support.waiting import wait_until

#: Long enough that no sweep runs during the test: only the timer can have sent a scheduled delivery.
SWEEP_INTERVAL_SECONDS = "600"


def early(database, ids):
    """The attempts of ids that started before their message's deliver_at: [(delivery id, seconds early)]."""
    return database._query(
        "SELECT d.id, EXTRACT(EPOCH FROM m.deliver_at - a.started_at) FROM delivery_attempts a"
        " JOIN deliveries d ON d.id = a.delivery_id JOIN messages m ON m.id = d.message_id"
        " WHERE d.id = ANY(%s) AND a.started_at < m.deliver_at", (list(ids),))


def produce_without_broker(env, receiver, count, deliver_in):
    """Schedule count messages from a producer whose broker URL leads nowhere: no delayed broker message exists."""
    producer = {**env, "BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    return produce(producer, receiver.url(), count, deliver_in=deliver_in)["delivery_ids"]


def test_scheduled_messages_of_a_producer_without_a_broker_are_sent_at_their_time(worker_env, processes, receiver,
                                                                                  database):
    # Given a worker that never sweeps
    env = {**worker_env, "WEBHOOK_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL_SECONDS}
    worker = processes.start_worker(env)

    # When a producer with no broker schedules messages a few seconds ahead (the worker hears of them by NOTIFY)
    ids = produce_without_broker(env, receiver, 5, deliver_in=3)

    # Then its timer wakes the slots at their time: each is sent, none before its time (the producer may take
    # longer than the 3 s on a busy machine, so whether they are still pending when it returns is not asked)
    wait_until(lambda: database.all_have(ids, "succeeded"), 30, message=lambda: database.describe(ids) + worker.log)
    assert early(database, ids) == []


def test_a_worker_started_after_messages_were_scheduled_sends_them_at_their_time(worker_env, processes, receiver,
                                                                                 database):
    # Given messages scheduled while no worker runs, and no broker message for them
    env = {**worker_env, "WEBHOOK_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL_SECONDS}
    ids = produce_without_broker(env, receiver, 3, deliver_in=8)

    # When a worker starts, its timer reads when they are due, and they are sent then, none before
    processes.start_worker(env)
    wait_until(lambda: database.all_have(ids, "succeeded"), 30,
               message=lambda: database.describe(ids) + processes.describe())
    assert early(database, ids) == []

