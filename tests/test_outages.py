"""PostgreSQL or Redis slow or down: bounded waits, 503 with Retry-After, one log line per incident.

Faults are real: a TCP proxy (tests/support/proxy.py) in front of the service freezes or cuts the
connections, a second PostgreSQL session holds a lock, or the SQLite file cannot be opened. The shared
PostgreSQL and Redis are never stopped.
"""

import dataclasses
import json
import logging
import os
import threading
import time

import dramatiq
import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from app import config as settings
from app import create_app, outages
from app.credentials import crypto
from app.delivery.attempt import record
from app.delivery.attempt.pipeline import attempt_deliveries, claim_delivery
from app.delivery.attempt.sender import Outcome
from app.delivery.messages import send_message
from app.delivery.operations.sweep import sweep
from app.extensions import db
from app.models import Delivery, DeliveryStatus
from app.models.inbound import InboundSource, Provider
from tasks.broker import make_broker
from tasks.deliveries import deliver_webhook, deliver_webhooks, wake_now
from tasks.periodic import Periodic
from tests.inbound import signing
from tests.support.factories import send
from tests.support.proxy import TcpProxy
from tests.support.receiver import Reply
from tests.support.staff import PASSWORD, login_token, make_user, sign_in
from tests.support.waiting import wait_until

#: Short timeouts so a test sees each bound fire in a second or two.
FAST_TIMEOUTS = {"DATABASE_CONNECT_TIMEOUT_SECONDS": "2", "DATABASE_STATEMENT_TIMEOUT_SECONDS": "1",
                 "DATABASE_LOCK_TIMEOUT_SECONDS": "0.5", "DATABASE_POOL_TIMEOUT_SECONDS": "1",
                 "REDIS_CONNECT_TIMEOUT_SECONDS": "1", "REDIS_SOCKET_TIMEOUT_SECONDS": "1"}

#: The database timeouts a deployment has unless it sets them (FAST_TIMEOUTS shortens them for other tests).
DEFAULT_TIMEOUTS = {"DATABASE_CONNECT_TIMEOUT_SECONDS": "5", "DATABASE_STATEMENT_TIMEOUT_SECONDS": "30",
                    "DATABASE_LOCK_TIMEOUT_SECONDS": "10", "DATABASE_POOL_TIMEOUT_SECONDS": "10"}


def app_on(database_url, **overrides):
    """An app (tables not created) on database_url with FAST_TIMEOUTS and overrides."""
    env = {**os.environ, **FAST_TIMEOUTS, **overrides}
    return create_app(settings.TestConfig(env, database_url=database_url))


def unavailable_lines(caplog, service):
    return [r for r in caplog.records if r.name == "app.outages" and f"{service} unavailable" in r.getMessage()]


def assert_one_line_no_traceback(caplog, service):
    assert len(unavailable_lines(caplog, service)) == 1, caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


def assert_503(response, api=True):
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.headers["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    if api:
        assert response.is_json and "database is unavailable" in response.json["error"]
    else:
        assert "Database unavailable" in response.get_data(as_text=True)


def in_thread(function):
    """Run function in a thread; fail if it is still running after 60 s (a hang), else return its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=function()), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "still waiting after 60 s: no timeout applied"
    return result.get("value")


def test_an_unreachable_database_file_answers_503_once_logged(tmp_path, caplog):
    app = app_on(f"sqlite:///{tmp_path}/no-such-folder/hookyard.db")
    client = app.test_client()
    caplog.set_level(logging.WARNING)

    for _ in range(3):
        assert_503(client.get("/api/v1/stats", headers={"Authorization": "Bearer hky_anything"}))
    sign_in_page = client.post("/login", data={"email": "a@example.com", "password": "x",
                                               "csrf_token": login_token(client)})
    assert_503(sign_in_page, api=False)
    assert_one_line_no_traceback(caplog, "database")


def test_a_staff_page_says_the_database_is_unavailable(tmp_path, caplog):
    path = tmp_path / "hookyard.db"
    app = app_on(f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
    make_user(app, "viewer")
    client = app.test_client()
    sign_in(client, "viewer@example.com", PASSWORD)
    caplog.set_level(logging.WARNING)
    with app.app_context():
        db.engine.dispose()
    path.rename(tmp_path / "moved.db")
    path.mkdir()  # the database file is now a folder: nothing can open it

    assert_503(client.get("/admin/"), api=False)
    assert_503(client.get("/admin/endpoints/"), api=False)
    assert_one_line_no_traceback(caplog, "database")


@pytest.mark.parametrize("fault", ["cut", "freeze"])
def test_a_broker_outage_never_fails_a_commit_and_is_logged_once(app, make_endpoint, monkeypatch, caplog, fault):
    make_endpoint()
    proxy = TcpProxy("127.0.0.1", 9)  # nothing needs to answer behind it: it is cut or frozen throughout
    config = settings.TestConfig({**os.environ, **FAST_TIMEOUTS})
    monkeypatch.setattr(deliver_webhook, "broker", make_broker(proxy.url("redis://127.0.0.1:6379/7"), config))
    getattr(proxy, fault)()
    caplog.set_level(logging.WARNING)
    try:
        def send_three():
            for number in range(3):
                with app.app_context():
                    send_message("order.created", {"n": number})
                    db.session.commit()
            return True

        assert in_thread(send_three)
        tried = proxy.accepted
    finally:
        proxy.close()
    with app.app_context():
        assert [d.status for d in db.session.query(Delivery)] == [DeliveryStatus.PENDING] * 3  # the sweep sends them
    assert tried == 1  # after the first failure, the next commits did not wait for Redis again
    assert_one_line_no_traceback(caplog, "broker")


def test_a_call_left_waiting_through_a_broker_outage_does_not_reopen_it_when_it_fails_after(
        app, redis_url, monkeypatch, caplog):
    # Given Redis frozen, the outage counted, and a wake-up waiting on a connection opened meanwhile
    proxy = TcpProxy.to(redis_url)
    config = settings.TestConfig({**os.environ, "REDIS_SOCKET_TIMEOUT_SECONDS": "60"})  # it waits until the reset
    monkeypatch.setattr(deliver_webhook, "broker", make_broker(proxy.url(redis_url), config))
    caplog.set_level(logging.WARNING)
    proxy.freeze()
    try:
        outages.broker.failed(TimeoutError("Timeout reading from socket"))  # a consumer's fetch, say
        waiting = threading.Thread(target=wake_now, args=(["dlv_waiting"],), daemon=True)
        waiting.start()
        wait_until(lambda: proxy.accepted >= 1, 30, message="the wake-up never connected")
        # When another call gets through first, then Redis comes back and resets the waiting call's connection
        outages.broker.succeeded()
        proxy.restore()
        waiting.join(60)
        assert not waiting.is_alive(), "the wake-up still waits after the reset"
    finally:
        proxy.close()
    # Then the log holds one outage and its end: the late failure belongs to the outage that ended
    assert len(unavailable_lines(caplog, "broker")) == 1, caplog.text
    assert caplog.text.count("broker available again") == 1, caplog.text
    # and a call begun after the end still opens a new outage
    outages.broker.failed(ConnectionError("refused"), started=time.monotonic())
    assert len(unavailable_lines(caplog, "broker")) == 2, caplog.text


def test_a_database_failure_of_work_begun_before_the_outage_ended_is_not_a_new_outage(caplog):
    caplog.set_level(logging.WARNING)
    lost = sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    begun = time.monotonic()  # a sweep, say, begun while PostgreSQL was frozen
    assert outages.report_database(lost)
    outages.database.succeeded()  # another thread got through: the outage ended
    assert outages.report_database(lost, begun)  # still an outage's error, not a bug to log
    assert len(unavailable_lines(caplog, "database")) == 1, caplog.text
    assert outages.report_database(lost, time.monotonic())  # work begun after the end: a new outage
    assert len(unavailable_lines(caplog, "database")) == 2, caplog.text


def test_a_record_failing_after_an_earlier_outage_ended_is_a_new_outage(app, make_endpoint, monkeypatch, caplog):
    make_endpoint()
    (_, (delivery_id,)), (_, (next_id,)) = send(app), send(app)
    with app.app_context():
        claimed = dataclasses.replace(claim_delivery(delivery_id), endpoint_healthy=True)  # its plain success path
        upcoming = dataclasses.replace(claim_delivery(next_id), reserved=True)  # a batch's next, started with it
    lost = sa_exc.OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
    caplog.set_level(logging.WARNING)
    outages.database.failed(lost)
    outages.database.succeeded()  # an earlier outage, over before this record began

    def commit_lost(written):
        raise lost

    monkeypatch.setattr(record, "_commit", commit_lost)
    with app.app_context(), pytest.raises(outages.DatabaseUnavailable):
        record.record_and_start((claimed, Outcome(duration_ms=5, status=200)), upcoming)
    assert len(unavailable_lines(caplog, "database")) == 2, caplog.text


def test_a_frozen_rate_limit_store_does_not_stop_sign_in(app, caplog):
    make_user(app, "viewer")
    proxy = TcpProxy("127.0.0.1", 9)
    proxy.freeze()
    config = settings.TestConfig({**os.environ, **FAST_TIMEOUTS}, database_url=app.config["SQLALCHEMY_DATABASE_URI"])
    config.RATELIMIT_STORAGE_URI = config.redis_url(proxy.url("redis://127.0.0.1:6379/7"))
    client = create_app(config).test_client()
    caplog.set_level(logging.WARNING)
    try:
        statuses = in_thread(lambda: [client.post("/login", data={
            "email": "viewer@example.com", "password": "wrong", "csrf_token": login_token(client)}).status_code
            for _ in range(11)])
    finally:
        proxy.close()
    assert statuses[:10] == [401] * 10 and statuses[10] == 429  # still limited, in this process meanwhile
    warnings = [r for r in caplog.records if "storage unreachable" in r.getMessage()]
    assert len(warnings) == 1, caplog.text


@pytest.fixture
def through_proxy(app, postgres_url, api_key):
    """(proxy, client, auth): an app on the test PostgreSQL through a TCP proxy, and an API key."""
    proxy = TcpProxy.to(postgres_url)
    proxied = app_on(proxy.url(postgres_url))
    yield proxy, proxied.test_client(), {"Authorization": f"Bearer {api_key}"}
    proxy.close()
    with proxied.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("fault", ["freeze", "cut"])
def test_a_frozen_or_stopped_postgresql_answers_503_and_recovers(through_proxy, caplog, fault):
    proxy, client, auth = through_proxy
    message = {"event_type": "order.created", "payload": {"id": 1}}
    assert client.get("/api/v1/stats", headers=auth).status_code == 200
    assert client.post("/api/v1/messages", headers=auth, json=message).status_code == 202  # the key now known
    caplog.set_level(logging.WARNING)

    getattr(proxy, fault)()  # a server that stops answering, or one that went away
    assert_503(in_thread(lambda: client.post("/api/v1/messages", headers=auth, json=message)))  # psycopg's own
    assert_503(in_thread(lambda: client.get("/api/v1/stats", headers=auth)))
    assert_503(in_thread(lambda: client.get("/api/v1/deliveries", headers=auth)))

    proxy.restore()
    assert client.post("/api/v1/messages", headers=auth, json=message).status_code == 202
    assert client.get("/api/v1/stats", headers=auth).status_code == 200
    assert_one_line_no_traceback(caplog, "database")


def test_a_lock_held_elsewhere_gives_up_after_the_lock_timeout(app, postgres_url, make_endpoint, api_key, caplog):
    endpoint = make_endpoint(name="Shop")
    fast = app_on(postgres_url)
    client = fast.test_client()
    auth = {"Authorization": f"Bearer {api_key}"}
    caplog.set_level(logging.WARNING)
    with psycopg.connect(postgres_url) as holder:
        holder.execute("LOCK TABLE endpoints IN ACCESS EXCLUSIVE MODE")  # as a long migration would
        assert_503(in_thread(lambda: client.patch(f"/api/v1/endpoints/{endpoint.id}", headers=auth,
                                                  json={"name": "Warehouse"})))
        assert_503(in_thread(lambda: client.get("/api/v1/endpoints", headers=auth)))
    response = client.get(f"/api/v1/endpoints/{endpoint.id}", headers=auth)
    assert response.status_code == 200 and response.json["name"] == "Shop"  # nothing was changed
    with fast.app_context():
        db.engine.dispose()
    assert_one_line_no_traceback(caplog, "database")


def test_timeouts_come_from_the_environment():
    config = settings.TestConfig({**FAST_TIMEOUTS, "TEST_DATABASE_URL": "postgresql://u@h/d"})
    connect_args = config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]
    assert connect_args["connect_timeout"] == 2 and connect_args["hookyard_wait_timeout"] == 3
    assert connect_args["options"] == "-c statement_timeout=1000 -c lock_timeout=500"
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_timeout"] == 1
    assert config.SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True
    assert "socket_timeout=1" in config.redis_url("redis://h:6379/0")
    defaults = settings.TestConfig({})
    assert "socket_connect_timeout=2&socket_timeout=5" in defaults.redis_url("redis://h:6379/0")


def test_an_actor_meeting_an_unavailable_database_retries_quietly(tmp_path, caplog):
    app = app_on(f"sqlite:///{tmp_path}/no-such-folder/hookyard.db")
    caplog.set_level(logging.WARNING)

    with app.app_context():
        for actor, argument in ((deliver_webhook, "dlv_1"), (deliver_webhooks, ["dlv_1", "dlv_2"])):
            with pytest.raises(dramatiq.Retry):  # Dramatiq retries it without logging a traceback
                actor.fn(argument)
    assert_one_line_no_traceback(caplog, "database")


def timed(function):
    """Run function as in_thread does; return its result and the seconds it took."""
    started = time.monotonic()
    value = in_thread(function)
    return value, time.monotonic() - started


def make_shopify_source(app, name="shop"):
    with app.app_context():
        db.session.add(InboundSource(name=name, provider=Provider.SHOPIFY,
                                     secret_encrypted=crypto.encrypt("shpss_frozen"), retired_secrets=[]))
        db.session.commit()


def test_a_frozen_postgresql_answers_producers_providers_and_staff_within_the_platforms_limits(
        app, postgres_url, api_key, make_endpoint, caplog):
    make_endpoint()
    make_shopify_source(app)
    make_user(app, "viewer")
    proxy = TcpProxy.to(postgres_url)
    proxied = app_on(proxy.url(postgres_url), **DEFAULT_TIMEOUTS)
    client, auth = proxied.test_client(), {"Authorization": f"Bearer {api_key}"}
    message = {"event_type": "order.created", "payload": {"id": 1}}
    body = json.dumps({"id": 1}).encode()

    def receive(webhook_id):
        return client.post("/inbound/shop", data=body, headers=signing.shopify("shpss_frozen", body,
                                                                               webhook_id=webhook_id))

    try:
        # Given a web app that has been answering through the proxy (its pool holds live connections)
        sign_in(client, "viewer@example.com", PASSWORD)
        assert client.post("/api/v1/messages", json=message, headers=auth).status_code == 202
        assert receive("wh-1").status_code == 200
        caplog.set_level(logging.WARNING)

        # When PostgreSQL stops answering (connections stay open, nothing comes back)
        proxy.freeze()

        # Then a producer, a provider and a person each get 503 + Retry-After well before any platform gives up
        response, api_seconds = timed(lambda: client.post("/api/v1/messages", json=message, headers=auth))
        assert_503(response)
        response, inbound_seconds = timed(lambda: receive("wh-2"))
        assert_503(response)
        response, page_seconds = timed(lambda: client.get("/admin/endpoints/"))
        assert_503(response, api=False)
        assert api_seconds < 10 and page_seconds < 10, (api_seconds, page_seconds)  # gunicorn and routers: 30 s
        assert inbound_seconds < 5, inbound_seconds  # Shopify gives up after 5 s
    finally:
        proxy.close()
        with proxied.app_context():
            db.engine.dispose()
    assert_one_line_no_traceback(caplog, "database")


def test_a_batch_meeting_a_frozen_postgresql_waits_one_timeout_and_loses_nothing(app, postgres_url, make_endpoint,
                                                                                 receiver, caplog):
    for number in range(4):  # four endpoints: the slot claims and sends them one batch after another
        make_endpoint(url=receiver.url(f"/hook/{number}"), timeout_seconds=2)
    with app.app_context():
        message, _ = send_message("order.created", {"n": 1})
        db.session.commit()
        ids = [d.id for d in message.deliveries]
    proxy = TcpProxy.to(postgres_url)
    worker_app = app_on(proxy.url(postgres_url))  # statements 1 s: the client gives up after 3 s
    receiver.default = Reply(delay=1.0)
    outcome = {}

    def run_batch():
        started = time.monotonic()
        with worker_app.app_context():
            try:
                deliver_webhooks.fn(ids)
            except dramatiq.Retry as exc:
                outcome["retry"] = exc
        outcome["seconds"] = time.monotonic() - started

    caplog.set_level(logging.WARNING)
    batch = threading.Thread(target=run_batch, daemon=True)
    try:
        # Given an attempt in flight, claimed while PostgreSQL answered, and more waiting
        batch.start()
        wait_until(lambda: receiver.in_flight == 1)
        # When PostgreSQL freezes before its outcome is recorded
        proxy.freeze()
        batch.join(60)
        assert not batch.is_alive(), "still recording after 60 s"
    finally:
        proxy.close()
        with worker_app.app_context():
            db.engine.dispose()

    # Then the slot stops at the first timeout (3 s), claims nothing more, and is retried quietly
    assert "retry" in outcome and outcome["seconds"] < 8, outcome
    assert_one_line_no_traceback(caplog, "database")
    # And nothing is lost: once the leases expire, the sweep records them and they go out again
    receiver.default = Reply()

    def all_succeeded():
        with app.app_context():
            sweep(grace_seconds=0)
            attempt_deliveries(ids)
            return {d.status for d in db.session.query(Delivery)} == {DeliveryStatus.SUCCEEDED}

    wait_until(all_succeeded, timeout=30)


def test_periodic_work_reports_an_outage_once_and_its_end_once(tmp_path, caplog):
    folder = tmp_path / "data"
    app = app_on(f"sqlite:///{folder}/hookyard.db")  # the folder does not exist yet: nothing can open the file
    periodic = Periodic(app, threads=1, queues=["webhooks"])
    caplog.set_level(logging.WARNING)

    for _ in range(3):
        periodic.tick()
    assert_one_line_no_traceback(caplog, "database")

    folder.mkdir()
    with app.app_context():
        db.create_all()
    periodic.tick()
    periodic.tick()
    back = [r.getMessage() for r in caplog.records if "database available again" in r.getMessage()]
    assert len(back) == 1, caplog.text
    assert back[0].startswith("database available again after 3 failures"), back  # one per tick, not per step
