"""An endpoint's rate limit holds across worker processes: they share one window in Redis."""

from collections import Counter

from tests.support.processes import produce, wait_until


def test_two_worker_processes_together_stay_under_the_rate_limit(worker_env, processes, receiver, database):
    # Given two separate worker processes and an endpoint allowing 3 attempts per second
    processes.start_worker(worker_env, name="worker-a")
    processes.start_worker(worker_env, name="worker-b")

    # When 15 webhooks for it are queued at once
    ids = produce(worker_env, receiver.url(), 15, rate_limit_per_second=3)["delivery_ids"]
    wait_until(lambda: database.all_have(ids, "succeeded"), 60,
               describe=lambda: database.describe(ids) + processes.describe())

    # Then no wall-clock second saw more than the limit (one more allowed for a request crossing a
    # second boundary in flight), it took the time the limit implies, and waiting cost no attempt
    per_second = Counter(int(request.wall) for request in receiver.requests)
    assert max(per_second.values()) <= 4, per_second
    spread = receiver.requests[-1].wall - receiver.requests[0].wall
    assert spread >= 3.5, f"15 requests at 3/s took only {spread:.1f}s: the workers did not share the limit"
    assert [number for _, number, _, _ in database.attempts(ids)] == [1] * 15
