"""Actors meet a database that cannot answer as one logged line per outage and a quiet retry, not a traceback."""

import time
from contextlib import contextmanager

import dramatiq

from app import outages

#: Wait before the message is tried again while the database is unavailable (the retries back off from here).
RETRY_DELAY_MS = 5_000


@contextmanager
def retry_when_database_down():
    """Turn "database unavailable" into a quiet Dramatiq retry; the recovery sweep takes over if retries run out."""
    started = time.monotonic()
    try:
        yield
    except Exception as exc:
        if not outages.report_database(exc, started):  # one line per outage
            raise
        raise dramatiq.Retry(f"database unavailable: {type(exc).__name__}", delay=RETRY_DELAY_MS) from None
    outages.database.succeeded()  # one line when an outage ends
