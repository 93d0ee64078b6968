"""Running it in production, as separate processes on PostgreSQL and Redis: the Procfile's web (gunicorn) and
worker (two dramatiq processes), each with its own metrics directory as if on its own machine."""

import re
import signal

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import WORKER_READY, flask, free_port, procfile_command, produce
from tests.support.waiting import wait_until

METRICS_TOKEN = "e2e-metrics-token"


def attempts_counted(port):
    """Return (succeeded attempts, attempt durations observed) as /metrics reports them."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10,
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(response.text) for s in f.samples}
    return (samples.get(("hookyard_attempts_total", (("error_class", "none"), ("outcome", "succeeded"))), 0),
            samples[("hookyard_attempt_duration_seconds_count", ())])


def start_web(processes, env, tmp_path):
    port = free_port()
    web_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "web")}
    web = processes.start("web", procfile_command("web"), web_env)
    wait_until(lambda: _answers(port), 60, message=web.describe)
    return port


def _answers(port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in (200, 503)
    except requests.RequestException:
        return False


def start_worker(processes, env, tmp_path, name, version):
    worker_env = {**env, "WORKER_PROCESSES": "2", "WORKER_THREADS": "4", "SOURCE_VERSION": version,
                  "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker-machine")}
    worker = processes.start(name, procfile_command("worker"), worker_env)
    worker.wait_for_log(WORKER_READY, timeout=60, count=2)
    return worker


def test_metrics_and_heartbeats_add_up_across_processes_and_machines_and_survive_a_restart(
        worker_env, processes, receiver, database, tmp_path):
    env = {**worker_env, "METRICS_TOKEN": METRICS_TOKEN, "PERIODIC_TICK_SECONDS": "1", "SOURCE_VERSION": "v1",
           "SNAPSHOT_INTERVAL_SECONDS": "1"}
    port = start_web(processes, env, tmp_path)
    key = flask(env, "api-keys", "create", "e2e").strip().splitlines()[-1]
    system = lambda: requests.get(f"http://127.0.0.1:{port}/api/v1/system", timeout=10,  # noqa: E731
                                  headers={"Authorization": f"Bearer {key}"}).json()
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["status"] == "ok"

    # Given a worker dyno: the Procfile's worker with two processes
    first = start_worker(processes, env, tmp_path, "worker", "v1")
    alive = wait_until(lambda: len(system()["workers"]) == 2 and system(), 30, message=processes.describe)
    assert {w["version"] for w in alive["workers"]} == {"v1"} and len({w["pid"] for w in alive["workers"]}) == 2
    assert alive["warnings"] == []

    # When six webhooks are delivered, the web's /metrics counts all six though it sent none of them
    ids = produce(env, receiver.url(), 6)["delivery_ids"]
    wait_until(lambda: database.all_have(ids, "succeeded"), 60, message=lambda: database.describe(ids))
    wait_until(lambda: attempts_counted(port) == (6, 6), 30, message=lambda: str(attempts_counted(port)))

    # When the worker restarts (a deploy of a new version) and four more are delivered, nothing resets
    first.signal_each(signal.SIGTERM)
    first.wait(60)
    start_worker(processes, env, tmp_path, "worker-v2", "v2")
    more = produce(env, receiver.url(), 4)["delivery_ids"]
    wait_until(lambda: database.all_have(more, "succeeded"), 60, message=lambda: database.describe(more))
    wait_until(lambda: attempts_counted(port) == (10, 10), 30, message=lambda: str(attempts_counted(port)))

    # Then the web (v1) and the new workers (v2) differ, and the System page says so
    drift = wait_until(lambda: {w["version"] for w in system()["workers"]} == {"v2"} and system(), 30)
    assert [w["kind"] for w in drift["warnings"]] == ["version-drift"]
    def snapshot_counts():
        run = next(r for r in system()["runs"] if r["name"] == "snapshot")
        return run["result"] and run["result"]["deliveries"]["succeeded"] == 10

    wait_until(snapshot_counts, 30, message=lambda: str(system()["runs"]))


def test_healthz_is_503_naming_the_broker_when_redis_does_not_answer(worker_env, processes, tmp_path):
    dead_redis = f"redis://:s3cret@127.0.0.1:{free_port()}/2"
    port = start_web(processes, {**worker_env, "BROKER_URL": dead_redis}, tmp_path)
    response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"] != "ok" and body["status"] == "failing"
    assert not re.search(r"s3cret|127\.0\.0\.1|redis://", response.text)


def test_with_redis_unreachable_the_web_is_live_but_not_ready_and_still_accepts_messages(
        worker_env, processes, tmp_path, database):
    dead_redis = f"redis://127.0.0.1:{free_port()}/2"
    env = {**worker_env, "BROKER_URL": dead_redis}
    port = start_web(processes, env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    live = requests.get(f"{base}/livez", timeout=30)
    ready = requests.get(f"{base}/readyz", timeout=30)
    assert live.status_code == 200 and live.json()["database"] == "ok", live.text
    assert ready.status_code == 503 and ready.json()["broker"] != "ok" and ready.json()["database"] == "ok"
    # The platform keeps routing, and a producer's message is accepted (the sweep sends it once Redis is back)
    key = flask(env, "api-keys", "create", "e2e").strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    endpoint = requests.post(f"{base}/api/v1/endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=headers,
                             timeout=30)
    assert endpoint.status_code == 201, endpoint.text
    sent = requests.post(f"{base}/api/v1/messages", json={"event_type": "order.created", "payload": {"n": 1}},
                         headers=headers, timeout=30)
    assert sent.status_code in (201, 202), sent.text


def test_counts_of_a_worker_killed_with_sigkill_are_still_in_metrics_after_its_restart(
        worker_env, processes, receiver, database, tmp_path):
    # No tick publishes in this test: the workers' first tick (at start) is their only one
    env = {**worker_env, "METRICS_TOKEN": METRICS_TOKEN, "PERIODIC_TICK_SECONDS": "3600"}
    port = start_web(processes, env, tmp_path)
    first = start_worker(processes, env, tmp_path, "worker", "v1")
    ids = produce(env, receiver.url(), 3)["delivery_ids"]
    wait_until(lambda: database.all_have(ids, "succeeded"), 60, message=lambda: database.describe(ids))

    # When the machine's workers die at once (kill -9: nothing runs at exit) and start again on it
    first.kill_group(signal.SIGKILL)
    first.wait(30)
    start_worker(processes, env, tmp_path, "worker-again", "v1")

    # Then /metrics still counts the three attempts, and they do not go away
    wait_until(lambda: attempts_counted(port) == (3, 3), 30, message=lambda: str(attempts_counted(port)))
    more = produce(env, receiver.url(), 1)["delivery_ids"]
    wait_until(lambda: database.all_have(more, "succeeded"), 60, message=lambda: database.describe(more))
    wait_until(lambda: attempts_counted(port) == (4, 4), 30, message=lambda: str(attempts_counted(port)))
