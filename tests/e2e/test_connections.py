"""The Procfile's web and worker processes, at their defaults and under load, hold no more PostgreSQL connections
than the README's budget: web processes x web pool + worker processes x worker pool."""

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import requests

from app.config import Config
from tests.support.processes import WORKER_READY, flask, free_port, procfile_command
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: The Procfile's defaults: WEB_CONCURRENCY=2 gunicorn processes, WORKER_PROCESSES=2 dramatiq processes.
WEB_PROCESSES = WORKER_PROCESSES = 2


def pool(env, role):
    """A process's connections at most: its pool, and a worker's NOTIFY listener (tasks/wake_listener.py) beside."""
    config = Config(env, role=role)
    listener = 1 if role == "worker" and config.WEBHOOK_WAKE_BY_NOTIFY else 0
    return config.DB_POOL_SIZE + config.DB_MAX_OVERFLOW + listener


class ConnectionSampler(threading.Thread):
    """Count the connections to the database by application_name, as often as it can, until stopped."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.most, self.most_by_name, self.succeeded = url, 0, {}, 0
        self.stopped = threading.Event()

    def run(self):
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopped.wait(0.02):
                rows = conn.execute("SELECT application_name, count(*) FROM pg_stat_activity WHERE datname ="
                                    " current_database() AND pid <> pg_backend_pid() GROUP BY 1").fetchall()
                self.most = max(self.most, sum(count for _, count in rows))
                for name, count in rows:
                    self.most_by_name[name] = max(self.most_by_name.get(name, 0), count)
                succeeded = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'succeeded'").fetchone()
                self.succeeded = succeeded[0]


def test_the_procfile_processes_stay_within_the_connection_budget_under_load(
        worker_env, processes, receiver, database, tmp_path):
    port = free_port()
    env = {**worker_env, "PERIODIC_TICK_SECONDS": "1", "SNAPSHOT_INTERVAL_SECONDS": "1"}
    key = flask(env, "api-keys", "create", "load").strip().splitlines()[-1]
    web = processes.start("web", procfile_command("web"), {**env, "PORT": str(port),
                                                           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "web")})
    worker = processes.start("worker", procfile_command("worker"),
                             {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker")})
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    wait_until(lambda: _answers(base), 60, message=web.describe)
    worker.wait_for_log(WORKER_READY, timeout=60, count=WORKER_PROCESSES)
    receiver.default = Reply(delay=0.05)  # attempts overlap, as they do against real receivers
    for number in range(4):
        created = requests.post(f"{base}/api/v1/endpoints", json={"url": receiver.url(f"/hook/{number}")},
                                headers=headers, timeout=30)
        assert created.status_code == 201, created.text
    sampler = ConnectionSampler(database.url)
    sampler.start()
    try:
        # When 16 producers send 80 messages at once (320 deliveries to four endpoints)
        def send(number):
            return requests.post(f"{base}/api/v1/messages", json={"event_type": "order.created",
                                 "payload": {"number": number}}, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(16) as producers:
            assert set(producers.map(send, range(80))) <= {201, 202}
        wait_until(lambda: sampler.succeeded >= 320, 120, message=lambda: f"{sampler.succeeded} succeeded")
    finally:
        sampler.stopped.set()
        sampler.join()
    # Then the connections held never exceed the documented budget, and each process role names its own
    print(f"connections held at most: {sampler.most}, by process role {sampler.most_by_name}")
    web_budget, worker_budget = WEB_PROCESSES * pool(env, "web"), WORKER_PROCESSES * pool(env, "worker")
    assert sampler.most <= web_budget + worker_budget, sampler.most_by_name
    assert 0 < sampler.most_by_name.get("hookyard-web", 0) <= web_budget, sampler.most_by_name
    assert 0 < sampler.most_by_name.get("hookyard-worker", 0) <= worker_budget, sampler.most_by_name


def _answers(base):
    try:
        return requests.get(f"{base}/livez", timeout=5).status_code == 200
    except requests.RequestException:
        return False
