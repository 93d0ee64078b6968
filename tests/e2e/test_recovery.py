"""A worker killed, a broker emptied, a worker stopped: no webhook is lost. Real processes throughout."""

import os
import signal
from collections import Counter

from tests.support.processes import WORKER_READY, procfile_command, produce
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: How long the receiver holds a request it is told to hang on: longer than the test takes to kill.
HANG_SECONDS = 30
#: The endpoint's deadline for those requests: the test must kill the worker within it, even on a busy machine
#: (5 s was once too short, beside three other test workers).
CUT_OFF_DEADLINE_SECONDS = 20


def header(request, name):
    return {k.lower(): v for k, v in request.headers.items()}[name]


def succeeded_attempts(attempts):
    """Count each delivery's 2xx attempts."""
    return Counter(d for d, _, status, error in attempts if error is None and status and 200 <= status < 300)


def test_deliveries_cut_off_by_sigkill_are_sent_by_the_next_worker(worker_env, processes, receiver, database):
    # Given a worker whose four threads are all held mid-request by a receiver that hangs
    receiver.reply(*[Reply(delay=HANG_SECONDS)] * 4)
    worker = processes.start_worker(worker_env, threads=4)
    ids = produce(worker_env, receiver.url(), 5, timeout_seconds=CUT_OFF_DEADLINE_SECONDS)["delivery_ids"]
    wait_until(lambda: receiver.in_flight >= 4, 30, message=lambda: database.describe(ids) + processes.describe())
    cut_off = database.with_status(ids, "sending")

    # When the whole worker (main process and its children) is killed without warning
    worker.kill_group(signal.SIGKILL)
    worker.wait(10)
    assert len(cut_off) == 4, database.describe(ids)
    assert database.attempts(cut_off) == [], "the attempts must have been cut off, not finished"
    assert database.with_status(ids, "sending") == cut_off

    # Then a new worker sends every delivery once the dead worker's leases expire
    processes.start_worker(worker_env, name="second-worker")
    wait_until(lambda: database.all_have(ids, "succeeded"), 120,
               message=lambda: database.describe(ids) + processes.describe())
    attempts = database.attempts(ids)
    assert succeeded_attempts(attempts) == dict.fromkeys(ids, 1), attempts
    message_ids = {header(r, "webhook-id") for r in receiver.requests}
    assert len(message_ids) == 5


def test_deliveries_whose_messages_redis_lost_are_still_sent(worker_env, redis, processes, receiver, database):
    # Given messages committed and queued while no worker runs (as broker wake-ups: not by NOTIFY, which Redis
    # never holds; tests/e2e/test_wake_by_notify.py has notifications nobody heard)
    ids = produce({**worker_env, "WEBHOOK_WAKE_BY_NOTIFY": "0"}, receiver.url(), 5)["delivery_ids"]
    assert database.all_have(ids, "pending")
    assert redis.dbsize() > 0, "the wake-up messages should be waiting in Redis"

    # When Redis loses everything (a restart without persistence) and a worker starts
    redis.flushdb()
    processes.start_worker(worker_env)

    # Then the recovery sweep finds the overdue deliveries and each is sent exactly once
    wait_until(lambda: database.all_have(ids, "succeeded"), 30,
               message=lambda: database.describe(ids) + processes.describe())
    assert [(number, status) for _, number, status, _ in database.attempts(ids)] == [(1, 200)] * 5
    assert sorted(Counter(header(r, "webhook-id") for r in receiver.requests).values()) == [1] * 5


#: A batch cut off mid-way: the endpoint's deadline, and how long each of its sends takes.
BATCH_TIMEOUT_SECONDS = 5
BATCH_SEND_SECONDS = 0.4


def test_a_batch_cut_off_by_sigkill_comes_back_within_one_deadline_with_a_duplicate_per_slot_at_most(
        worker_env, processes, receiver, database):
    # Given a worker of 2 slots part-way through a backlog of 30 to one endpoint, each send taking a while, so each
    # slot holds a batch: one delivery being sent, the others reserved for it
    receiver.default = Reply(delay=BATCH_SEND_SECONDS)
    threads = 2
    worker = processes.start_worker(worker_env, threads=threads)
    ids = produce(worker_env, receiver.url(), 30, timeout_seconds=BATCH_TIMEOUT_SECONDS)["delivery_ids"]
    wait_until(lambda: len(database.with_status(ids, "succeeded")) >= 4 and receiver.in_flight > 0, 60,
               message=lambda: database.describe(ids) + processes.describe())

    # When the whole worker is killed without warning
    worker.kill_group(signal.SIGKILL)
    worker.wait(10)
    leases = database.leases(ids)
    sending = database.with_status(ids, "sending")

    # Then each lease covers one send, not the batch's: every claimed delivery is back in service within the
    # endpoint's deadline plus the lease margin (FAST_RECOVERY: 1 s), however large the batch
    assert any(status == "pending" for status, _ in leases), f"nothing was reserved: {leases}"
    assert all(float(left) <= BATCH_TIMEOUT_SECONDS + 1 for _, left in leases), leases
    # and a new worker sends every delivery; only the sends in flight at the kill can arrive twice, and only they
    # are charged a lost attempt (a reserved delivery never sent goes back without one)
    processes.start_worker(worker_env, name="second-worker", threads=threads)
    wait_until(lambda: database.all_have(ids, "succeeded"), 120,
               message=lambda: database.describe(ids) + processes.describe())
    arrivals = Counter(header(r, "webhook-id") for r in receiver.requests)
    assert len(arrivals) == 30
    assert sum(n - 1 for n in arrivals.values()) <= threads, arrivals
    lost = {d for d, _, _, error in database.attempts(ids) if error == "worker_lost"}
    assert lost <= set(sending) and len(lost) <= threads, (lost, sending, database.describe(ids))
    assert succeeded_attempts(database.attempts(ids)) == dict.fromkeys(ids, 1)


#: How long the receiver takes to answer the attempt a worker is stopped during: long enough for the test to see
#: it in flight on a busy machine (3 s was once too short), short beside the worker's 25 s shutdown timeout; the
#: endpoint's deadline is twice that.
MID_ATTEMPT_SECONDS = 8


def start_worker_mid_attempt(worker_env, processes, receiver, database):
    """Start a worker and give it one attempt the receiver takes MID_ATTEMPT_SECONDS to answer; return both."""
    receiver.reply(Reply(delay=MID_ATTEMPT_SECONDS))
    worker = processes.start_worker(worker_env)
    (delivery_id,) = produce(worker_env, receiver.url(), 1, timeout_seconds=2 * MID_ATTEMPT_SECONDS)["delivery_ids"]
    receiver.wait_for(1, timeout=30)
    assert receiver.in_flight == 1
    assert database.statuses([delivery_id]) == {delivery_id: "sending"}
    return worker, delivery_id


def test_sigterm_lets_the_attempt_in_flight_finish(worker_env, processes, receiver, database):
    worker, delivery_id = start_worker_mid_attempt(worker_env, processes, receiver, database)

    worker.send(signal.SIGTERM)  # as `docker stop` does: to the main process only

    # The attempt is finished and recorded before the worker exits, well within the shutdown timeout
    assert worker.wait(40) == 0, processes.describe()
    assert database.statuses([delivery_id]) == {delivery_id: "succeeded"}, processes.describe()
    assert database.attempts([delivery_id]) == [(delivery_id, 1, 200, None)]


def test_sigterm_to_every_process_lets_the_attempt_in_flight_finish(worker_env, processes, receiver, database):
    worker, delivery_id = start_worker_mid_attempt(worker_env, processes, receiver, database)

    # As Heroku stops a dyno: SIGTERM to every process in it. One at a time, because two SIGTERMs
    # arriving together may be merged into one by the kernel, which would hide the problem by chance.
    worker.signal_each(signal.SIGTERM)

    # dramatiq's worker process would take the second SIGTERM as "kill now"; tasks.worker prevents that
    assert worker.wait(40) == 0, processes.describe()
    assert database.statuses([delivery_id]) == {delivery_id: "succeeded"}, processes.describe()
    assert database.attempts([delivery_id]) == [(delivery_id, 1, 200, None)]


def test_sigterm_stops_an_idle_worker_promptly(worker_env, processes):
    worker = processes.start_worker(worker_env)
    worker.send(signal.SIGTERM)
    assert worker.wait(25) == 0, processes.describe()


def test_one_worker_process_dying_ends_the_whole_worker_non_zero_so_the_platform_restarts_it(
        worker_env, processes, receiver, database):
    # Given the Procfile's worker with two processes, one of them sending a webhook that takes a while
    worker = processes.start("worker", procfile_command("worker"),
                             {**worker_env, "WORKER_PROCESSES": "2", "WORKER_THREADS": "2"})
    worker.wait_for_log(WORKER_READY, timeout=60, count=2)
    receiver.reply(Reply(delay=3))
    ids = produce(worker_env, receiver.url(), 1)["delivery_ids"]
    receiver.wait_for(1, timeout=30)

    # When one worker process dies (the OOM killer, a segfault: kill -9)
    children = [pid for pid in worker.group_pids()[1:] if _parent(pid) == worker.pid]
    assert len(children) >= 2, processes.describe()
    os.kill(children[0], signal.SIGKILL)

    # Then the whole worker exits promptly, and with a failure status a platform (or systemd) restarts on
    code = worker.wait(40)
    assert code != 0, processes.describe()
    assert "exited unexpectedly" in worker.log()
    wait_until(lambda: worker.group_pids() == [], 10, message=processes.describe)  # no half-alive leftover
    # And the restarted worker sends whatever the dead one held
    processes.start_worker(worker_env, name="worker-restarted")
    wait_until(lambda: database.all_have(ids, "succeeded"), 60, message=lambda: database.describe(ids))


def _parent(pid):
    """Return the parent pid of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None
