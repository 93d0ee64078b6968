"""A broker Redis that may evict queued messages (maxmemory-policy allkeys-*) is named at start-up, on the System
page and in the readiness answer. Redis' config is server-wide: each test restores it at once."""

import logging
from contextlib import contextmanager

import pytest

from app.ops.broker_memory import eviction_warning, warn_at_startup
from tests.ops.test_pages import heartbeat


@contextmanager
def redis_policy(url, policy):
    """Set the maxmemory-policy of the Redis server at url for the block only."""
    import redis

    client = redis.Redis.from_url(url)
    before = client.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        client.config_set("maxmemory-policy", policy)
        yield
    finally:
        client.config_set("maxmemory-policy", before)
        client.close()


@pytest.mark.parametrize("policy", ["noeviction", "volatile-lru", "volatile-ttl", None])
def test_policies_that_keep_queued_messages_raise_no_warning(policy):
    assert eviction_warning(policy) is None


def test_allkeys_policies_are_named_with_the_fix():
    warning = eviction_warning("allkeys-lfu")
    assert "allkeys-lfu" in warning and "noeviction" in warning


def test_an_evicting_broker_is_warned_about_at_start_up_on_the_system_page_and_in_readiness(
        app, client, staff, caplog, redis_url):
    heartbeat(app, 11, "v1")
    staff("viewer")
    with redis_policy(redis_url, "allkeys-lru"):
        with caplog.at_level(logging.WARNING, logger="app.ops.broker_memory"):
            warn_at_startup("worker")
        page = client.get("/admin/system/").get_data(as_text=True)
        ready = client.get("/readyz")
    assert "worker start-up: The broker's Redis has maxmemory-policy allkeys-lru" in caplog.text
    assert 'data-warning="broker-eviction"' in page and "maxmemory-policy allkeys-lru" in page
    assert ready.status_code == 503 and "allkeys-lru" in ready.get_json()["broker_eviction"]
    assert ready.get_json()["broker"] == ready.get_json()["workers"] == "ok"


def test_a_broker_that_keeps_its_keys_raises_no_warning(app, client, staff, redis_url):
    heartbeat(app, 11, "v1")
    staff("viewer")
    with redis_policy(redis_url, "noeviction"):
        page = client.get("/admin/system/").get_data(as_text=True)
        ready = client.get("/readyz")
    assert 'data-warning="broker-eviction"' not in page
    assert ready.status_code == 200 and ready.get_json()["broker_eviction"] == "ok"
