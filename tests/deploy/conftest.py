"""Fixtures for driving the deploy commands as a platform runs them: an empty PostgreSQL database per test,
a clean Redis db, and child processes killed at the end."""

import itertools
from urllib.parse import urlsplit

import pytest

from tests.support.processes import ProcessGroup, drop_database, recreate_database, service_env
from tests.support.services import flushed_redis

_numbers = itertools.count()


@pytest.fixture
def empty_database(postgres_url):
    """A new, empty PostgreSQL database (nothing migrated), dropped after the test; returns its URL."""
    server = postgres_url
    # Named after the test database, so two test runs on one server (two checkouts) never share one.
    name = f"{urlsplit(server).path.lstrip('/') or 'hookyard'}_deploy_{next(_numbers)}"
    yield recreate_database(server, name)
    drop_database(server, name)


@pytest.fixture
def redis_url(redis_url):
    """TEST_REDIS_URL, its db flushed before and after the test."""
    with flushed_redis(redis_url):
        yield redis_url


@pytest.fixture
def deploy_env(empty_database, redis_url):
    """The environment a platform gives the release step, the web, the worker and a one-off console."""
    def make(**settings):
        # REDIS_URL, as the platforms name it; http here, so the session cookie may not be "secure"
        return service_env(empty_database, "", REDIS_URL=redis_url, SESSION_COOKIE_SECURE="0", **settings)

    return make


@pytest.fixture
def processes(tmp_path):
    """Start child processes; every one still running is killed (whole process group) at the end."""
    group = ProcessGroup(tmp_path)
    yield group
    group.close()
