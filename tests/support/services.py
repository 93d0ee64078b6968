"""Reach the real services the tests use, and say clearly when one is configured but down."""

import os
import socket
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis as redis_client


def check_service(url):
    """Fail the run if the service at url does not accept a TCP connection."""
    parts = urlsplit(url)
    port = parts.port or {"redis": 6379, "postgresql": 5432, "amqp": 5672}.get(parts.scheme.split("+")[0], 0)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=3).close()
    except OSError as exc:
        pytest.exit(f"{url} is configured for the tests but not reachable: {exc}", returncode=3)


def require(variable):
    """Return the URL in variable, or skip the test (fail on CI, where every service must be present)."""
    url = os.environ.get(variable)
    if not url:
        if os.environ.get("CI") == "true" and os.environ.get("TEST_DATABASE_URL"):
            pytest.fail(f"{variable} must be set on CI")
        pytest.skip(f"set {variable} to run this test against the real service")
    return url


@contextmanager
def flushed_redis(url):
    """Empty the Redis db at url before and after the block."""
    client = redis_client.Redis.from_url(url)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
