"""PostgreSQL or Redis slow or down: which errors say so, and one log line per incident instead of a traceback
per request.

An incident is a run of failures of one service with no gap longer than QUIET_SECONDS, ended early by a success
where a caller reports one (the workers do). Its first failure logs one warning line (the error's class and first
line, never a traceback nor the statement's parameters); later ones are counted, with a reminder every
REMIND_SECONDS; its end logs one more line, "... available again". A call that began before that end and failed after
it (one left waiting on a connection the outage froze, reset when the service came back) belongs to the incident
that ended, not to a new one: callers that know when their call began say so (failed(error, started=...)). A service
may also be given a pause: for that long after a failure, callers that can do without it (the broker: the recovery
sweep sends what waits) skip it instead of waiting for another timeout.
"""

import logging
import re
import threading
import time

from sqlalchemy import exc as sa_exc

from app.extensions import db

log = logging.getLogger(__name__)

#: What a 503 tells a client: try again in this many seconds.
RETRY_AFTER_SECONDS = 5
#: SQLite reports a missing table as an OperationalError; that is a bug to see, not an outage.
_SQLITE_SCHEMA_ERROR = re.compile(r"no such (table|column)|has no column|syntax error", re.I)


class DatabaseUnavailable(Exception):
    """Raised when work stops early because the database cannot answer (the failure is counted already)."""


def database_unavailable(error):
    """Say whether a database error means it cannot answer now (down, restarting, too slow, a lock held too
    long, no pooled connection free) rather than a bug."""
    if isinstance(error, (DatabaseUnavailable, sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return not _SQLITE_SCHEMA_ERROR.search(str(error.orig))
    return False


def _first_line(error):
    text = str(getattr(error, "orig", None) or error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {text[0][:300]}"


class Incident:
    """One service's failures as this process sees them (thread-safe)."""

    #: A failure this long after the previous one starts a new incident (and a new log line).
    QUIET_SECONDS = 60.0
    #: While an incident lasts, one reminder line this often, with the count.
    REMIND_SECONDS = 300.0

    def __init__(self, service, pause_seconds=0.0):
        self.service = service
        self.pause_seconds = pause_seconds
        self._lock = threading.Lock()
        self._last_failure = None
        self._first_failure = None
        self._reminded = 0.0
        self._count = 0
        #: When the last incident ended (time.monotonic()), or None.
        self._ended = None

    def failed(self, error, started=None):
        """Count a failure; log it if it opens an incident, or if a reminder is due. started: when the failed call
        began (time.monotonic()), if known: a call begun before the last incident ended is a leftover of it, and
        neither counts nor opens another."""
        now = time.monotonic()
        with self._lock:
            if started is not None and self._ended is not None and started < self._ended:
                return
            new = self._last_failure is None or now - self._last_failure > self.QUIET_SECONDS
            self._count = 1 if new else self._count + 1
            if new:
                self._first_failure = now
            self._last_failure = now
            remind = not new and now - self._reminded >= self.REMIND_SECONDS
            if new or remind:
                self._reminded = now
            count = self._count
        if new:
            log.warning("%s unavailable (%s); further failures are not logged while it lasts",
                        self.service, _first_line(error))
        elif remind:
            log.warning("%s still unavailable: %d failures so far (%s)", self.service, count, _first_line(error))

    def succeeded(self):
        """Note that the service answered: if that ends an incident, log one line saying so."""
        if self._last_failure is None:
            return  # the usual case, without taking the lock
        with self._lock:
            if self._last_failure is None:
                return
            now = time.monotonic()
            count, lasted = self._count, now - self._first_failure
            self._last_failure, self._first_failure, self._count, self._ended = None, None, 0, now
        log.warning("%s available again after %d failures in %.0f s", self.service, count, lasted)

    def available(self):
        """Say whether to try the service now: False for pause_seconds after a failure."""
        with self._lock:
            last = self._last_failure
        return last is None or time.monotonic() - last >= self.pause_seconds

    def reset(self):
        """Forget every failure (a test starting afresh)."""
        with self._lock:
            self._last_failure, self._first_failure, self._count, self._reminded = None, None, 0, 0.0
            self._ended = None


def report_database(error, started=None):
    """If error says the database is unavailable, count it (one log line per incident; started: when the failed
    work began, see Incident.failed) and return True; return False for any other error, for the caller to log as
    the bug it is."""
    if not database_unavailable(error):
        return False
    database.failed(error, started=started)
    return True


def database_failed(error):
    """If error says the database is unavailable, count it (one log line per incident), end the session's
    transaction and return True; return False for any other error (a bug: the usual 500 and traceback)."""
    if not database_unavailable(error):
        return False
    database.failed(error)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  the connection is gone; the session is removed when the request ends
        pass
    return True


#: PostgreSQL (or the SQLite file) of this process.
database = Incident("database")
#: The Dramatiq broker (Redis or RabbitMQ): after a failure, committed work waits for the sweep for 10 s
#: instead of each request waiting for Redis' timeout.
broker = Incident("broker", pause_seconds=10.0)
