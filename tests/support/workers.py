"""Under pytest-xdist (`make test` runs two workers side by side) each worker gets its own PostgreSQL database and
Redis db, so two tests running at the same moment never see each other's rows, queues or flushes.

Called from tests/conftest.py before app or tasks are imported: the broker is picked once, at import, from
TEST_REDIS_URL. Without xdist (a plain `pytest`) nothing changes.
"""

import os
from urllib.parse import urlsplit, urlunsplit

from tests.support.databases import empty_database

#: Redis has databases 0-15; worker N uses the configured db minus N, wrapping round.
REDIS_DATABASES = 16


def isolate_worker(environ=os.environ):
    """Point TEST_DATABASE_URL and TEST_REDIS_URL at this xdist worker's own database and Redis db."""
    worker = environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    number = int(worker.removeprefix("gw"))
    if environ.get("TEST_DATABASE_URL"):
        environ["TEST_DATABASE_URL"] = fresh_database(environ["TEST_DATABASE_URL"], f"_{worker}")
    if environ.get("TEST_REDIS_URL"):
        environ["TEST_REDIS_URL"] = redis_db(environ["TEST_REDIS_URL"], number)


def fresh_database(url, suffix):
    """Make the database named like url's with suffix on the same server exist and be empty; return its URL."""
    return empty_database(url, urlsplit(url).path.lstrip("/") + suffix)


def redis_db(url, number):
    """url with its db index moved down by number (db 15 for worker 0 of a run on db 15, 14 for worker 1)."""
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - number) % REDIS_DATABASES}"))
