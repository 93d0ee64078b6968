"""The real migrations, run by the CLI over existing rows: nothing may be lost on upgrade or downgrade."""

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.config import PRODUCTION_VARIABLES, TEST_ENCRYPTION_KEY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The revision before the endpoint control plane, which rebuilds the endpoints table on SQLite.
BEFORE_REBUILD = "efa10e4bca40"

ROWS = [
    "INSERT INTO endpoints (id, url, signing, secret_encrypted, timeout_seconds, max_attempts, state, "
    "consecutive_failures, created_at, updated_at) VALUES ('ep_1', 'http://x', 'standard', 'tok', 10, 8, "
    "'enabled', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO messages (id, event_type, payload, created_at) VALUES ('msg_1', 'a.b', '{}', '2026-01-01 00:00:00')",
    "INSERT INTO deliveries (id, message_id, endpoint_id, event_type, status, attempt_count, "
    "scheduled_attempt_count, created_at) VALUES ('dlv_1', 'msg_1', 'ep_1', 'a.b', 'succeeded', 1, 1, "
    "'2026-01-01 00:00:00')",
    "INSERT INTO delivery_attempts (delivery_id, number, trigger, started_at, duration_ms, request_url, "
    "request_headers, will_retry) VALUES ('dlv_1', 1, 'scheduled', '2026-01-01 00:00:00', 5, 'http://x', '{}', "
    "false)",
]


def flask_db(url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRODUCTION_VARIABLES)}
    env.update(DATABASE_URL=url, SECRET_KEY="x", SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr + result.stdout


def counts(url):
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        found = {t: connection.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                 for t in ("endpoints", "messages", "deliveries", "delivery_attempts")}
        found["attempt_endpoint"] = connection.scalar(sa.text("SELECT endpoint_id FROM delivery_attempts")) \
            if "endpoint_id" in [c["name"] for c in sa.inspect(connection).get_columns("delivery_attempts")] else None
    engine.dispose()
    return found


def upgrade_over(url, revision, rows):
    """Upgrade to revision, write rows there, then upgrade to the head; return an engine on the database."""
    flask_db(url, "upgrade", revision)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        for statement in rows:
            connection.execute(sa.text(statement))
    flask_db(url, "upgrade")
    return engine


def run_round_trip(url):
    upgrade_over(url, BEFORE_REBUILD, ROWS).dispose()
    assert counts(url) == {"endpoints": 1, "messages": 1, "deliveries": 1, "delivery_attempts": 1,
                           "attempt_endpoint": "ep_1"}
    assert "No new upgrade operations detected" in flask_db(url, "check")
    flask_db(url, "downgrade", BEFORE_REBUILD)
    assert counts(url)["deliveries"] == counts(url)["delivery_attempts"] == 1


#: The revision before header values were encrypted at rest (relative, so re-chaining revisions keeps it right).
BEFORE_ENCRYPTION = "ed163ff85540-1"
#: An endpoint with a custom header in clear, and an audit entry that recorded its value.
CLEAR_HEADERS = [
    "INSERT INTO endpoints (id, url, signing, secret_encrypted, secret_created_at, timeout_seconds, max_attempts, "
    "state, consecutive_failures, breaker_failures, retired_secrets, headers, created_at, updated_at) VALUES "
    "('ep_2', 'http://x', 'standard', 'tok', '2026-01-01 00:00:00', 10, 8, 'enabled', 0, 0, '[]', "
    "'{\"X-Auth\": \"s3cret-value\"}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO audit_entries (at, actor, action, target_type, summary, before, after) VALUES "
    "('2026-01-01 00:00:00', 'a@example.com', 'endpoint.update', 'endpoint', 'changed headers', "
    "'{\"headers\": {}}', '{\"headers\": {\"X-Auth\": \"s3cret-value\"}, \"name\": \"Shop\"}')",
]


def as_json(value):
    """A JSON column's value: SQLite hands back text, PostgreSQL the parsed value."""
    return json.loads(value) if isinstance(value, str) else value


def run_encryption_round_trip(url):
    engine = upgrade_over(url, BEFORE_ENCRYPTION, CLEAR_HEADERS)
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT headers_encrypted FROM endpoints"))
        audit = connection.execute(sa.text("SELECT before, after FROM audit_entries")).one()
    stored = as_json(stored)
    assert "s3cret-value" not in str(stored) and "s3cret-value" not in str(audit)
    assert Fernet(TEST_ENCRYPTION_KEY).decrypt(stored["X-Auth"].encode()) == b"s3cret-value"
    flask_db(url, "downgrade", BEFORE_ENCRYPTION)
    with engine.connect() as connection:
        restored = connection.scalar(sa.text("SELECT headers FROM endpoints"))
    engine.dispose()
    assert as_json(restored) == {"X-Auth": "s3cret-value"}


@pytest.mark.slow
def test_sqlite_migrations_keep_every_row(tmp_path):
    run_round_trip(f"sqlite:///{tmp_path}/migrate.db")


@pytest.mark.slow
def test_sqlite_migration_encrypts_header_values_and_masks_them_in_the_audit(tmp_path):
    run_encryption_round_trip(f"sqlite:///{tmp_path}/migrate.db")


@contextmanager
def fresh_postgresql_database(server):
    """An empty database on the server, named after the test database (never another project's), emptied after."""
    from tests.support.databases import empty_database

    name = f"{urlsplit(server).path.lstrip('/') or 'hookyard'}_migrate"
    try:
        yield empty_database(server, name)
    finally:
        empty_database(server, name)


@pytest.mark.slow
def test_postgresql_migrations_keep_every_row(postgres_url):
    with fresh_postgresql_database(postgres_url) as url:
        run_round_trip(url)


@pytest.mark.slow
def test_postgresql_migration_encrypts_header_values_and_masks_them_in_the_audit(postgres_url):
    with fresh_postgresql_database(postgres_url) as url:
        run_encryption_round_trip(url)


