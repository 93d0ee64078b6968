"""Each pytest-xdist worker gets its own database and Redis db (tests/support/workers.py)."""

import psycopg
import pytest

from tests.support.workers import fresh_database, isolate_worker, redis_db


@pytest.mark.parametrize(("url", "number", "expected"), [
    ("redis://127.0.0.1:6379/15", 0, "redis://127.0.0.1:6379/15"),
    ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/14"),
    ("redis://127.0.0.1:6379/0", 1, "redis://127.0.0.1:6379/15"),
    ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/14"),
])
def test_each_worker_has_its_own_redis_db(url, number, expected):
    assert redis_db(url, number) == expected


def test_without_xdist_nothing_changes():
    environ = {"TEST_DATABASE_URL": "postgresql://u@h/d", "TEST_REDIS_URL": "redis://h/15"}
    isolate_worker(environ)
    assert environ == {"TEST_DATABASE_URL": "postgresql://u@h/d", "TEST_REDIS_URL": "redis://h/15"}


def test_a_worker_gets_an_empty_database_of_its_own(postgres_url):
    environ = {"PYTEST_XDIST_WORKER": "gw7", "TEST_DATABASE_URL": postgres_url, "TEST_REDIS_URL": "redis://h/15"}
    isolate_worker(environ)
    assert environ["TEST_DATABASE_URL"].endswith("_gw7") and environ["TEST_REDIS_URL"] == "redis://h/8"
    with psycopg.connect(environ["TEST_DATABASE_URL"], autocommit=True) as connection:
        connection.execute("CREATE TABLE leftover (id int)")
    fresh_database(postgres_url, "_gw7")  # the next run's worker 7 starts from nothing
    with psycopg.connect(environ["TEST_DATABASE_URL"], autocommit=True) as connection:
        assert connection.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'").fetchone() == (0,)
    with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{environ["TEST_DATABASE_URL"].rsplit("/", 1)[1]}" WITH (FORCE)')
