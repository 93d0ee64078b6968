"""PostgreSQL connections that give up instead of hanging.

The server enforces statement_timeout and lock_timeout itself (see app.config.engine_options), but a frozen
server, or a network that swallows packets, never answers at all: psycopg would wait forever. Each
connection made with the "hookyard_wait_timeout" connect argument therefore bounds every wait for an
answer; past it the connection is closed (SQLAlchemy then drops it from the pool) and the statement fails
with an OperationalError, which the web answers as 503 (app.outages).

A web request is bounded tighter (request_timeout): its transactions get a statement and lock timeout of a few
seconds (DATABASE_REQUEST_TIMEOUT_SECONDS, INBOUND_DATABASE_TIMEOUT_SECONDS for POST /inbound/<source>), and
its client waits, connecting included, end half a second after that, well under gunicorn's and the platforms'
30 s and Shopify's 5 s.
"""

import re
import shlex
import sys
from contextlib import contextmanager

import psycopg
from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool
from sqlalchemy.pool.base import _ConnectionFairy

from app.config import DATABASE_REQUEST_MARGIN_SECONDS

#: The connect argument that carries the bound; removed before the driver sees the arguments.
WAIT_TIMEOUT_ARG = "hookyard_wait_timeout"
# psycopg raises this private subclass of OperationalError when a wait's timeout expires.
_WAIT_TIMEOUT = getattr(psycopg.errors, "_WaitTimeout", None)
if _WAIT_TIMEOUT is None:  # IMPORTANT: re-check BoundedConnection.wait against psycopg's Connection.wait
    raise ImportError(f"psycopg {psycopg.__version__} has no errors._WaitTimeout; app.database needs updating")


# psycopg converts a query's %(name)s placeholders anew on every execution unless the query is at most 4,096 bytes
# with at most 50 parameters; the claim (fair.py, ~11 KB, 160 parameters with the values written in it) and the
# record of an attempt with the next send's start (record.py, ~90 parameters) are built once and run for every
# batch or delivery. Raised so that their conversion is cached too (psycopg's cache keeps the 128 queries last used).
try:
    from psycopg import _queries as _psycopg_queries

    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = max(_psycopg_queries.MAX_CACHED_STATEMENT_LENGTH, 16_384)
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 256)
except (ImportError, AttributeError):  # another psycopg: its own limits apply, only slower
    pass


class _KeptStatements:
    """Stands in for a connection's prepared statements while psycopg rolls its transaction back: nothing to forget,
    nothing to send (see BoundedConnection._rollback_gen)."""

    @staticmethod
    def clear():
        return False

    @staticmethod
    def maintain_gen(connection):
        yield from ()


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after wait_timeout seconds, and whose prepared
    statements outlive a rollback."""

    wait_timeout = None
    #: The bound of whoever holds the connection: set when the pool hands it out (_bound_holder), as a web request's
    #: is tighter; a psycopg connection waits several times a statement, and working it out each time cost more.
    held_bound = None

    def wait(self, gen, interval=0.1, timeout=None):
        """Wait as psycopg does, for at most wait_timeout seconds (less in a web request) unless psycopg asks for a
        shorter wait."""
        bound = self.held_bound if self.held_bound is not None else _client_bound(self.wait_timeout)
        if bound is None or (timeout is not None and timeout <= bound):
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=bound)
        except _WAIT_TIMEOUT:
            self.close()  # in an unknown state: never hand it out again
            raise psycopg.OperationalError(
                f"the database did not answer within {bound:g} s; the connection was closed") from None

    def _rollback_gen(self):
        """Roll back as psycopg does, but keep the prepared statements, which psycopg deallocates at every rollback
        (DEALLOCATE ALL) in case the transaction created what they refer to.

        Why: a session that only read ends with a rollback when the pool takes its connection back, as the wake
        timer's query did several times a second; each one threw away the claim's and the record's prepared
        statements, and PostgreSQL then planned the claim anew (about 2 ms each) for five more runs before it kept
        its plan again. A named prepared statement is not part of a transaction: it exists on the server whatever
        becomes of the transaction it was made in. What psycopg guards against needs DDL in a pooled connection's
        transaction, which Hookyard never runs (migrations have their own connection); a DROP or ALTER run through a
        cursor still clears them (psycopg's own check of each command's status). IMPORTANT: psycopg's
        Connection._rollback_gen must still reach the prepared statements only through clear() and
        maintain_gen() (tests/test_database_bounds.py checks that a rollback keeps them)."""
        kept, self._prepared = self._prepared, _KeptStatements
        try:
            yield from super()._rollback_gen()
        finally:
            self._prepared = kept


def request_timeout():
    """Return the statement timeout, in seconds, of the web request being served; None outside a request."""
    if not has_request_context():
        return None
    config = current_app.config
    if request.path.startswith("/inbound/"):
        return config["INBOUND_DATABASE_TIMEOUT_SECONDS"]
    return config["DATABASE_REQUEST_TIMEOUT_SECONDS"]


def _client_bound(wait_timeout):
    """How long a client wait may last: wait_timeout, or less in a web request."""
    request_bound = request_timeout()
    if request_bound is None or wait_timeout is None:
        return wait_timeout
    return min(wait_timeout, request_bound + DATABASE_REQUEST_MARGIN_SECONDS)


@event.listens_for(Pool, "checkout")
def _bound_holder(dbapi_connection, connection_record, connection_proxy):
    """Give a connection handed out the bound of its holder's waits (a web request's, or wait_timeout)."""
    if isinstance(dbapi_connection, BoundedConnection):
        dbapi_connection.held_bound = _client_bound(dbapi_connection.wait_timeout)


@event.listens_for(Pool, "checkin")
def _unbound_holder(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, BoundedConnection):
        dbapi_connection.held_bound = None  # the next holder's is set when it is handed out


_IDLE = psycopg.pq.TransactionStatus.IDLE
# IMPORTANT: _set_autocommit sets psycopg's own attribute; re-check it against BaseConnection._set_autocommit_gen.
if not {"_autocommit", "_pipeline"} <= set(psycopg.BaseConnection.__init__.__code__.co_names):
    raise ImportError(f"psycopg {psycopg.__version__} keeps autocommit elsewhere; app.database needs updating")
# IMPORTANT: autocommitted gives a connection back as SQLAlchemy's Connection does when its transaction has ended.
if "transaction_was_reset" not in _ConnectionFairy._checkin.__code__.co_varnames:
    raise ImportError("SQLAlchemy has no _ConnectionFairy._checkin(transaction_was_reset); app.database needs updating")
if not hasattr(Pool, "_invalidate"):  # IMPORTANT: _as_sqlalchemy drops a lost connection's pool generation with it
    raise ImportError("SQLAlchemy's Pool has no _invalidate; app.database._as_sqlalchemy needs updating")


@contextmanager
def autocommitted(engine):
    """Lend a pooled psycopg connection in autocommit for statements sent by psycopg itself: no transaction to begin
    or end, no SQLAlchemy statement or result machinery (a hot path's one statement). A psycopg error is raised as
    SQLAlchemy's (the web's 503 knows those), as is one in connecting (the pool raises the driver's own there); a
    connection that broke or timed out is dropped from the pool."""
    try:
        pooled = engine.raw_connection()
    except psycopg.Error as exc:  # the database is down or refuses: as Engine.connect() would say it
        raise _as_sqlalchemy(engine, None, exc) from exc
    idle = False
    try:
        connection = pooled.driver_connection
        _set_autocommit(connection, True)
        try:
            yield connection
        except psycopg.Error as exc:
            raise _as_sqlalchemy(engine, pooled, exc) from exc
        finally:
            try:
                if not connection.closed:
                    _set_autocommit(connection, False)  # as the pool's other holders expect it
                    idle = True
            except psycopg.Error as exc:  # left inside a statement (interrupted): never hand it out again
                pooled.invalidate(exc)
    finally:
        pooled._checkin(transaction_was_reset=idle)  # idle: no transaction for the pool's rollback to end


def _set_autocommit(connection, value):
    """connection.autocommit = value; on an idle connection without psycopg's lock and wait, which only check that it
    is idle (a pooled connection handed out or given back is), as a hot path's every statement paid for twice."""
    if connection.pgconn.transaction_status == _IDLE and connection._pipeline is None:
        connection._autocommit = value
    else:
        connection.autocommit = value  # psycopg refuses it, saying why


@contextmanager
def in_transaction(connection):
    """Lend the psycopg connection under a SQLAlchemy Connection, inside its transaction, for a statement psycopg
    sends itself (no statement compilation or result machinery). A psycopg error is raised as SQLAlchemy's, and a
    connection that broke or timed out is invalidated as SQLAlchemy does for its own statements."""
    pooled = connection.connection
    try:
        yield pooled.driver_connection
    except psycopg.Error as exc:
        error = _as_sqlalchemy(connection.engine, pooled, exc)
        if error.connection_invalidated:
            connection.invalidate(exc)  # the session's connection: its transaction can only be rolled back now
        raise error from exc


def kept_cursor(connection):
    """Return the one cursor a hot path's statements on this psycopg connection (lent by autocommitted or
    in_transaction) share: psycopg's execute makes a cursor per statement, with its own adapters and loaders, which
    cost a short statement about a fifth of its CPU. Its result is good until the next statement on the connection,
    and is kept as long: only for statements whose results are small (a write's ids, not a claim's payloads)."""
    cursor = getattr(connection, "_kept_cursor", None)
    if cursor is None or cursor.closed:
        cursor = connection._kept_cursor = connection.cursor()
    return cursor


def _as_sqlalchemy(engine, pooled, exc):
    """A psycopg error on the pooled connection (None: in connecting) as SQLAlchemy raises it; a lost connection
    drops, as SQLAlchemy does, every connection made before it from the pool."""
    connection = pooled.driver_connection if pooled is not None else None
    lost = bool(connection is not None and connection.closed) or engine.dialect.is_disconnect(exc, connection, None)
    if lost and pooled is not None:
        engine.pool._invalidate(pooled, exc)
    return sa_exc.DBAPIError.instance(None, None, exc, psycopg.Error, hide_parameters=True,
                                      connection_invalidated=lost, dialect=engine.dialect)


#: What PostgreSQL says when the database named in the URL is not there.
_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist')


class DatabaseMissing(psycopg.OperationalError):
    """Raised when DATABASE_URL names a PostgreSQL database that does not exist (one clear line, no traceback)."""


@event.listens_for(Engine, "do_connect")
def _connect_bounded(dialect, connection_record, cargs, cparams):
    """Open psycopg connections as BoundedConnection when the engine asks for a wait bound."""
    wait_timeout = cparams.pop(WAIT_TIMEOUT_ARG, None)
    if dialect.driver != "psycopg":
        return None  # the dialect connects as usual
    bound = _client_bound(wait_timeout)
    if bound is not None and bound < wait_timeout and "connect_timeout" in cparams:  # libpq: whole seconds, >= 2
        cparams["connect_timeout"] = min(cparams["connect_timeout"], max(int(bound), 2))
    try:
        connection = BoundedConnection.connect(*cargs, **cparams)
    except psycopg.OperationalError as exc:
        missing = _NO_DATABASE.search(str(exc))
        if missing:
            raise DatabaseMissing(_missing_message(missing.group(1), cparams)) from None
        raise
    connection.wait_timeout = wait_timeout
    return connection


def _missing_message(name, cparams):
    where = [f"-{flag} {shlex.quote(str(cparams[key]))}" for flag, key in (("h", "host"), ("p", "port"), ("U", "user"))
             if cparams.get(key)]
    return (f'the PostgreSQL database "{name}" (DATABASE_URL) does not exist; create it with: '
            f"createdb {' '.join([*where, shlex.quote(name)])}")


def _database_missing(error):
    return error if isinstance(error, DatabaseMissing) else (
        getattr(error, "orig", None) if isinstance(getattr(error, "orig", None), DatabaseMissing) else None)


def _excepthook(kind, error, traceback, previous=sys.excepthook):
    """End a command that found no database with one line on stderr (exit 1) instead of a traceback."""
    missing = _database_missing(error)
    if missing is None:
        return previous(kind, error, traceback)
    print(f"Error: {missing}", file=sys.stderr)


sys.excepthook = _excepthook


@event.listens_for(Session, "after_begin")
def _bound_request_transaction(session, transaction, connection):
    """Give a web request's PostgreSQL transaction its own short statement and lock timeouts."""
    seconds = request_timeout()
    if seconds is None or connection.dialect.name != "postgresql":
        return
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # no transaction to scope them to; the client's own bound still holds
    lock_seconds = min(seconds, current_app.config["DATABASE_LOCK_TIMEOUT_SECONDS"])
    connection.exec_driver_sql(
        "SELECT set_config('statement_timeout', %(statement)s, true), set_config('lock_timeout', %(lock)s, true)",
        {"statement": f"{int(seconds * 1000)}ms", "lock": f"{int(lock_seconds * 1000)}ms"})
