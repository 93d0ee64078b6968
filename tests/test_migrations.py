"""The real migrations, run by the CLI over existing rows: nothing may be lost on upgrade or downgrade."""

import os
import subprocess
import sys
import uuid

import sqlalchemy as sa

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "BROKER_URL"))}
    env.update(DATABASE_URL=url, SECRET_KEY="x", SECRETS_ENCRYPTION_KEY="x3Lf0pNSSaJFbRiyKHOuwL4KT8H1NKNvY2MwYz8RAOQ=")
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


def run_round_trip(url):
    flask_db(url, "upgrade", BEFORE_REBUILD)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    engine.dispose()
    flask_db(url, "upgrade")
    assert counts(url) == {"endpoints": 1, "messages": 1, "deliveries": 1, "delivery_attempts": 1,
                           "attempt_endpoint": "ep_1"}
    assert "No new upgrade operations detected" in flask_db(url, "check")
    flask_db(url, "downgrade", BEFORE_REBUILD)
    assert counts(url)["deliveries"] == counts(url)["delivery_attempts"] == 1


def test_sqlite_migrations_keep_every_row(tmp_path):
    run_round_trip(f"sqlite:///{tmp_path}/migrate.db")


def test_postgresql_migrations_keep_every_row():
    from tests.support.services import require

    server = require("TEST_DATABASE_URL").rsplit("/", 1)[0]
    name = f"hookyard_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{server}/postgres".replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        run_round_trip(f"{server}/{name}")
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


