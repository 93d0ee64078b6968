"""PostgreSQL connections that give up instead of hanging.

The server enforces statement_timeout and lock_timeout itself (see app.config.engine_options), but a frozen
server, or a network that swallows packets, never answers at all: psycopg would wait forever. Each
connection made with the "hookyard_wait_timeout" connect argument therefore bounds every wait for an
answer; past it the connection is closed (SQLAlchemy then drops it from the pool) and the statement fails
with an OperationalError, which the web answers as 503 (app.outages).
"""

import re
import shlex
import sys

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: The connect argument that carries the bound; removed before the driver sees the arguments.
WAIT_TIMEOUT_ARG = "hookyard_wait_timeout"
# psycopg raises this private subclass of OperationalError when a wait's timeout expires.
_WAIT_TIMEOUT = getattr(psycopg.errors, "_WaitTimeout", None)
if _WAIT_TIMEOUT is None:  # IMPORTANT: re-check BoundedConnection.wait against psycopg's Connection.wait
    raise ImportError(f"psycopg {psycopg.__version__} has no errors._WaitTimeout; app.database needs updating")


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after wait_timeout seconds."""

    wait_timeout = None

    def wait(self, gen, interval=0.1, timeout=None):
        """Wait as psycopg does, for at most wait_timeout seconds unless psycopg asks for a shorter wait."""
        if self.wait_timeout is None or (timeout is not None and timeout <= self.wait_timeout):
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.wait_timeout)
        except _WAIT_TIMEOUT:
            self.close()  # in an unknown state: never hand it out again
            raise psycopg.OperationalError(
                f"the database did not answer within {self.wait_timeout:g} s; the connection was closed") from None


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
