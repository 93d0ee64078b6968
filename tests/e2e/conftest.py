"""Fixtures for end-to-end tests: a migrated PostgreSQL database emptied per test, a clean Redis db, child processes."""

from urllib.parse import urlsplit

import psycopg
import pytest
import redis as redis_client

from tests.support import databases
from tests.support.processes import ProcessGroup, flask, service_env
from tests.support.services import flushed_redis


class Deliveries:
    """Read deliveries and attempts straight from the database, as an operator would."""

    def __init__(self, url):
        self.url = url

    def _query(self, sql, params=()):
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def statuses(self, ids):
        """Return {delivery id: status}."""
        return dict(self._query("SELECT id, status FROM deliveries WHERE id = ANY(%s)", (list(ids),)))

    def with_status(self, ids, status):
        return sorted(i for i, s in self.statuses(ids).items() if s == status)

    def all_have(self, ids, status):
        statuses = self.statuses(ids)
        return len(statuses) == len(ids) and set(statuses.values()) == {status}

    def attempts(self, ids):
        """Return [(delivery id, number, response status, error class)] in order."""
        return self._query(
            "SELECT delivery_id, number, response_status, error_class FROM delivery_attempts"
            " WHERE delivery_id = ANY(%s) ORDER BY delivery_id, number", (list(ids),))

    def attempt_starts(self, ids):
        """Return when each attempt at ids started (aware datetimes)."""
        return [started for (started,) in self._query(
            "SELECT started_at FROM delivery_attempts WHERE delivery_id = ANY(%s)", (list(ids),))]

    def leases(self, ids):
        """Return [(status, seconds until the lease ends)] of the leased deliveries among ids, by the database's
        clock."""
        return self._query(
            "SELECT status, EXTRACT(EPOCH FROM lease_expires_at - now() AT TIME ZONE 'UTC') FROM deliveries"
            " WHERE id = ANY(%s) AND lease_token IS NOT NULL", (list(ids),))

    def describe(self, ids):
        return f"statuses: {self.statuses(ids)}\nattempts: {self.attempts(ids)}"

    def truncate(self):
        """Empty every table. A connection an earlier test's process left open in a transaction (its client gone, the
        connection not) would hold the TRUNCATE until pytest's timeout: after 10 s without its locks, the connections
        that hold them are ended, and the TRUNCATE runs again."""
        tables = [t for (t,) in self._query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'")]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            try:
                conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            except psycopg.errors.LockNotAvailable:
                conn.execute("SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                             " JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()"
                             " WHERE c.relname = ANY(%s) AND l.pid <> pg_backend_pid()", (tables,))
                conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


@pytest.fixture(scope="session")
def e2e_database_url(postgres_url):
    """A PostgreSQL database for the end-to-end tests, empty and upgraded with the real migrations once per run (each
    test empties its tables: `database`); emptied after."""
    server = postgres_url
    # Named after the test database (under xdist each process's own), so two test runs on one server (two checkouts)
    # or two processes of one run never share one.
    name = f"{urlsplit(server).path.lstrip('/') or 'hookyard'}_e2e"
    url = databases.empty_database(server, name)
    flask(service_env(url, ""), "db", "upgrade")
    yield url
    databases.empty_database(server, name)


@pytest.fixture
def database(e2e_database_url):
    """The end-to-end database, its tables emptied before each test."""
    deliveries = Deliveries(e2e_database_url)
    deliveries.truncate()
    return deliveries


@pytest.fixture
def redis_url(redis_url):
    """TEST_REDIS_URL, its db flushed before and after the test."""
    with flushed_redis(redis_url):
        yield redis_url


@pytest.fixture
def redis(redis_url):
    client = redis_client.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def worker_env(database, redis_url):
    """Environment for workers and producers on the test PostgreSQL and Redis."""
    return service_env(database.url, redis_url)


@pytest.fixture
def processes(tmp_path):
    """Start child processes; every one still running is killed (whole process group) at the end."""
    group = ProcessGroup(tmp_path)
    yield group
    group.close()
