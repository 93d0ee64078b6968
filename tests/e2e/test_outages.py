"""Redis or PostgreSQL down or frozen: every message is accepted, none is lost, each log says so once.

Real processes (the web server, gunicorn as the Procfile runs it, a worker) reach the test Redis or PostgreSQL
through a TCP proxy the test cuts or freezes; the shared services themselves are never stopped.
"""

import time
from collections import Counter

import pytest
import requests

from tests.inbound import signing
from tests.support.processes import flask, free_port, http_ok, procfile_command, produce, service_env
from tests.support.proxy import TcpProxy
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: How many messages are sent while Redis cannot be reached.
COUNT = 5


@pytest.fixture
def redis_proxy(redis_url):
    proxy = TcpProxy.to(redis_url)
    yield proxy
    proxy.close()


@pytest.mark.parametrize("fault", ["cut", "freeze"])
def test_messages_accepted_while_redis_is_down_still_go_out(database, redis_url, redis_proxy, processes, receiver,
                                                            fault):
    # The producer's broker hand-off under test: with the NOTIFY wake-up (on by default) a commit makes no broker
    # call at all (tests/e2e/test_wake_by_notify.py); here it is off, as without PostgreSQL's NOTIFY
    env = service_env(database.url, redis_proxy.url(redis_url), REDIS_CONNECT_TIMEOUT_SECONDS="1",
                      REDIS_SOCKET_TIMEOUT_SECONDS="2", WEBHOOK_WAKE_BY_NOTIFY="0")
    port = free_port()
    server = processes.start_server(env, port)
    processes.start_worker(env)
    key = flask(env, "api-keys", "create", "e2e").strip().splitlines()[-1]
    api, headers = f"http://127.0.0.1:{port}/api/v1", {"Authorization": f"Bearer {key}"}
    assert requests.post(f"{api}/endpoints", json={"url": receiver.url()}, headers=headers, timeout=30).ok

    # Given Redis goes down (or stops answering) for the web server and the worker alike
    getattr(redis_proxy, fault)()

    # When producers send messages, each is accepted at once
    ids = []
    for number in range(COUNT):
        response = requests.post(f"{api}/messages", json={"event_type": "order.created", "payload": {"n": number}},
                                 headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        ids += [d["id"] for d in response.json()["deliveries"]]
    assert database.all_have(ids, "pending")

    # Then once Redis is back, the sweep sends every one, exactly once each
    redis_proxy.restore()
    wait_until(lambda: database.all_have(ids, "succeeded"), 60,
               message=lambda: database.describe(ids) + processes.describe())
    assert sorted(Counter(r.headers["webhook-id"] for r in receiver.requests).values()) == [1] * COUNT
    log = server.log()
    assert log.count("broker unavailable") == 1, server.describe(lines=200)
    assert "Traceback" not in log, server.describe(lines=200)


def test_a_frozen_redis_costs_a_producer_nothing(database, redis_url, redis_proxy, processes, receiver):
    # Default timeouts: 2 s to connect, 5 to answer; the broker hand-off under test (not the NOTIFY wake-up)
    env = service_env(database.url, redis_proxy.url(redis_url), WEBHOOK_WAKE_BY_NOTIFY="0")
    port = free_port()
    server = processes.start_server(env, port)
    worker = processes.start_worker(env)
    key = flask(env, "api-keys", "create", "e2e").strip().splitlines()[-1]
    api, headers = f"http://127.0.0.1:{port}/api/v1", {"Authorization": f"Bearer {key}"}
    assert requests.post(f"{api}/endpoints", json={"url": receiver.url()}, headers=headers, timeout=30).ok

    # Given Redis stops answering (connections stay open, nothing comes back)
    redis_proxy.freeze()

    # When a producer sends messages one after another, each is answered at once
    ids, seconds = [], []
    for number in range(COUNT):
        started = time.monotonic()
        response = requests.post(f"{api}/messages", json={"event_type": "order.created", "payload": {"n": number}},
                                 headers=headers, timeout=30)
        seconds.append(time.monotonic() - started)
        assert response.status_code == 202, response.text
        ids += [d["id"] for d in response.json()["deliveries"]]
    assert max(seconds) < 1, seconds
    server.wait_for_log("broker unavailable", timeout=30)  # the hand-off gave up meanwhile, in the background

    # Then once Redis answers again, the sweep sends every one to the receiver
    redis_proxy.restore()
    wait_until(lambda: database.all_have(ids, "succeeded"), 90,
               message=lambda: database.describe(ids) + processes.describe())
    assert sorted(Counter(r.headers["webhook-id"] for r in receiver.requests).values()) == [1] * COUNT
    # And the worker's consumers said so in one line, and one more when Redis came back
    worker.wait_for_log("broker available again", timeout=30)
    log = worker.log()
    assert "Traceback" not in log and "CRITICAL" not in log, worker.describe(lines=300)
    assert log.count("broker unavailable") == 1 and log.count("broker available again") == 1, worker.describe()


@pytest.fixture
def postgres_proxy(database):
    proxy = TcpProxy.to(database.url)
    yield proxy
    proxy.close()


#: Worker timeouts short enough that a freeze of a few seconds meets every path several times.
FAST_DATABASE = {"DATABASE_CONNECT_TIMEOUT_SECONDS": "2", "DATABASE_STATEMENT_TIMEOUT_SECONDS": "1",
                 "DATABASE_LOCK_TIMEOUT_SECONDS": "0.5", "DATABASE_POOL_TIMEOUT_SECONDS": "1",
                 "PERIODIC_TICK_SECONDS": "1", "SNAPSHOT_INTERVAL_SECONDS": "1"}


def test_a_postgresql_outage_is_one_line_in_the_worker_log(database, redis_url, postgres_proxy, processes, receiver):
    direct = service_env(database.url, redis_url)
    worker = processes.start_worker(service_env(postgres_proxy.url(database.url), redis_url, **FAST_DATABASE))
    receiver.default = Reply(delay=2)  # attempts still in flight when the database freezes

    # Given a worker sending webhooks
    ids = produce(direct, receiver.url(), COUNT)["delivery_ids"]
    wait_until(lambda: receiver.in_flight, 90, message=worker.describe)

    # When PostgreSQL freezes while periodic ticks, the sweep, recording and new messages all need it
    postgres_proxy.freeze()
    tried = postgres_proxy.accepted
    ids += produce(direct, receiver.url(), COUNT)["delivery_ids"]  # written straight to it, woken through Redis
    wait_until(lambda: postgres_proxy.accepted >= tried + 30, 90, message=worker.describe)  # thirty tries at least
    receiver.default = Reply()
    postgres_proxy.restore()

    # Then every message still goes out, and the worker said so in one line, then one more at recovery
    wait_until(lambda: database.all_have(ids, "succeeded"), 120,
               message=lambda: database.describe(ids) + processes.describe())
    worker.wait_for_log("database available again", timeout=30)
    log = worker.log()
    assert "Traceback" not in log, worker.describe(lines=300)
    assert log.count("database unavailable") == 1, worker.describe(lines=300)
    assert log.count("database available again") == 1, worker.describe(lines=300)


def test_a_frozen_postgresql_answers_through_gunicorn_well_before_the_platforms_give_up(
        database, redis_url, postgres_proxy, processes, tmp_path):
    port = free_port()
    env = service_env(postgres_proxy.url(database.url), redis_url, PORT=str(port), WEB_CONCURRENCY="1",
                      PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "web"))  # the database timeouts a deployment has
    web = processes.start("web", procfile_command("web"), env)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/api/v1/openapi.json"), 60, message=web.describe)
    key = flask(service_env(database.url, redis_url), "api-keys", "create", "e2e").strip().splitlines()[-1]
    api, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    secret, body = "shpss_e2e_frozen_0123456789abcdef", b'{"id": 1}'
    assert requests.post(f"{api}/api/v1/inbound-sources", json={"name": "shop", "provider": "shopify",
                                                                 "secret": secret}, headers=headers, timeout=30).ok

    def timed(method, path, **options):
        started = time.monotonic()
        response = requests.request(method, f"{api}{path}", timeout=60, **options)
        return response, time.monotonic() - started

    # Given gunicorn answering through the proxy, when PostgreSQL stops answering
    message = {"event_type": "order.created", "payload": {"n": 1}}
    assert timed("POST", "/api/v1/messages", json=message, headers=headers)[0].status_code == 202
    postgres_proxy.freeze()

    # Then a producer and a provider get 503 + Retry-After before gunicorn, a router or Shopify gives up
    sent, api_seconds = timed("POST", "/api/v1/messages", json=message, headers=headers)
    received, inbound_seconds = timed("POST", "/inbound/shop", data=body,
                                      headers=signing.shopify(secret, body, webhook_id="wh-frozen"))
    for response in (sent, received):
        assert response.status_code == 503 and response.headers["Retry-After"] == "5", response.text
        assert "database is unavailable" in response.json()["error"]
    assert api_seconds < 10, api_seconds
    assert inbound_seconds < 5, inbound_seconds
    assert "WORKER TIMEOUT" not in web.log(), web.describe()
