"""Fixtures for driving the deploy commands as a platform runs them: an empty PostgreSQL database per test,
a clean Redis db, and child processes killed at the end."""

from urllib.parse import urlsplit

import pytest

from tests.support import databases
from tests.support.processes import ProcessGroup, service_env
from tests.support.services import flushed_redis


@pytest.fixture
def empty_database(postgres_url):
    """An empty PostgreSQL database (nothing migrated), emptied again after the test; returns its URL."""
    server = postgres_url
    # Named after the test database, so two test runs on one server (two checkouts) never share one.
    name = f"{urlsplit(server).path.lstrip('/') or 'hookyard'}_deploy"
    yield databases.empty_database(server, name)
    databases.empty_database(server, name)


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
