"""Extension objects, created unbound; create_app binds them."""

import os
import sqlite3
from urllib.parse import urlsplit

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

#: Constraint names Alembic can rely on, the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)
#: Blueprints the limiter skips outright: none of their views has a limit (providers sign each inbound webhook).
#: Checking them anyway, resolving no limits, cost a tenth of a call's CPU. A limit added to one of their views must
#: remove it from here. (The API's requests never reach the limiter: app.request_hooks.pages_only.)
UNLIMITED_BLUEPRINTS = frozenset({"inbound"})


@limiter.request_filter
def _unlimited_blueprint():
    return request.blueprint in UNLIMITED_BLUEPRINTS


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """Make SQLite fit for a web process and worker threads sharing one file."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _begin_sqlite)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


#: Suffixes of the files SQLite keeps beside a database (WAL, shared memory, rollback journal).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _sqlite_path(cargs, cparams):
    """Return the file a pysqlite connection will open, or None for an in-memory database."""
    name = cargs[0] if cargs else cparams.get("database", "")
    if cparams.get("uri") and name.startswith("file:"):
        parts = urlsplit(name)
        name = "" if "mode=memory" in parts.query else parts.path
    return None if name in ("", ":memory:") else name


@event.listens_for(Engine, "do_connect")
def _private_sqlite_file(dialect, connection_record, cargs, cparams):
    """Create a SQLite database file readable by its owner only, and tighten one made readable to others.

    SQLite gives the files it keeps beside a database (-wal, -shm, -journal) the database's own mode when it
    creates them; ones left over from before are tightened too.
    """
    if dialect.name != "sqlite" or (path := _sqlite_path(cargs, cparams)) is None:
        return None  # the dialect connects as usual
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return None  # a missing folder and the like: let SQLite report it
    for name in (path, *(path + suffix for suffix in SQLITE_SIDE_FILES)):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            pass  # absent, or not ours to change
    return None


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    # IMPORTANT: pysqlite's own implicit BEGIN breaks SAVEPOINT, and a deferred transaction that reads
    # and then writes can deadlock against another writer. BEGIN IMMEDIATE takes the write lock up
    # front, so writers queue on busy_timeout instead of failing.
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
