"""An endpoint's rate limit holds across worker processes: they share one window in Redis."""

from collections import Counter

from tests.support.processes import produce
from tests.support.waiting import wait_until


def test_two_worker_processes_together_stay_under_the_rate_limit(worker_env, processes, receiver, database):
    # Given two separate worker processes and an endpoint allowing 3 attempts per second
    processes.start_worker(worker_env, name="worker-a")
    processes.start_worker(worker_env, name="worker-b")

    # When 15 webhooks for it are queued at once
    ids = produce(worker_env, receiver.url(), 15, rate_limit_per_second=3)["delivery_ids"]
    wait_until(lambda: database.all_have(ids, "succeeded"), 60,
               message=lambda: database.describe(ids) + processes.describe())

    # Then no second saw more attempts start than the limit (two processes limiting alone would allow 6), so it took
    # at least four seconds' worth of windows, and waiting cost no attempt. Counted by each attempt's start, which
    # follows the limiter's grant at once, not by arrival: a request let go at x.99 may arrive at x+1.01 on a busy
    # machine (one more is allowed for an attempt whose start crossed into the next second after its grant).
    per_second = Counter(int(started.timestamp()) for started in database.attempt_starts(ids))
    assert len(receiver.requests) == 15
    assert max(per_second.values()) <= 4 and len(per_second) >= 4, per_second
    assert [number for _, number, _, _ in database.attempts(ids)] == [1] * 15
