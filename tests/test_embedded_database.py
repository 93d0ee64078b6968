"""The embedded SQLite database and the files SQLite keeps beside it are readable by their owner only."""

import os
import stat
from contextlib import contextmanager

from sqlalchemy import text

from app import create_app
from app.config import TestConfig as _TestConfig
from app.extensions import db
from tests.support.processes import child_env, flask


@contextmanager
def umask(mask):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_embedded_database_is_created_readable_by_its_owner_only(tmp_path):
    instance = tmp_path / "instance"
    with umask(0o022):  # the usual login umask, which made it 0644
        flask(child_env(HOOKYARD_INSTANCE_PATH=instance), "db", "upgrade")
    assert mode(instance / "hookyard.db") == 0o600
    assert mode(instance / "secrets_encryption_key") == 0o600


def test_write_ahead_log_and_shared_memory_files_are_owner_only(tmp_path):
    path = tmp_path / "hookyard.db"
    with umask(0o022):
        app = create_app(_TestConfig(database_url=f"sqlite:///{path}"))
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.commit()
            files = {name: mode(tmp_path / name) for name in os.listdir(tmp_path)}
            db.engine.dispose()
    assert files == {"hookyard.db": 0o600, "hookyard.db-wal": 0o600, "hookyard.db-shm": 0o600}


def test_a_database_made_readable_to_others_before_is_tightened(tmp_path):
    path = tmp_path / "hookyard.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    app = create_app(_TestConfig(database_url=f"sqlite:///{path}"))
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    assert mode(path) == 0o600
