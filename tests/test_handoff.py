import threading

from app.handoff import Handoff


def test_work_handed_off_runs_in_the_app_context_and_drains():
    handoff, seen = Handoff(size=10), []
    app = type("App", (), {"app_context": lambda self: threading.Lock()})()  # any context manager will do
    for number in range(3):
        assert handoff.submit(app, seen.append, number)
    assert handoff.drain(timeout=5)
    assert seen == [0, 1, 2]


def test_a_full_queue_leaves_the_work_to_the_sweep():
    handoff, release = Handoff(size=1), threading.Event()
    assert handoff.submit(None, lambda _: release.wait(5), None)  # the thread takes it and blocks
    results = [handoff.submit(None, lambda _: None, n) for n in range(3)]
    release.set()
    assert results.count(False) >= 1  # at most one more fits while the thread is busy


def test_commits_that_pile_up_behind_a_slow_hand_over_go_in_one_call_in_order():
    handoff, release, calls = Handoff(size=100), threading.Event(), []
    app = type("App", (), {"app_context": lambda self: threading.Lock()})()

    def send(pending):
        calls.append(pending)

    assert handoff.submit(None, lambda _: release.wait(5), None)  # the broker is slow: the thread waits on it
    for number in range(5):
        assert handoff.submit(app, send, {"deliveries-committed": [number], **({"jobs": [number]} if number else {})})
    release.set()
    assert handoff.drain(timeout=5)
    assert calls == [{"deliveries-committed": [0, 1, 2, 3, 4], "jobs": [1, 2, 3, 4]}]
