"""Pure retry policy: outcome -> retry or not, attempt number -> next delay (the schedule both pipelines follow,
app.work.backoff), a receiver's Retry-After."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.models import ErrorClass
from app.work.backoff import next_delay  # noqa: F401  the outbound schedule is the shared one

#: Error classes worth another try; blocked, config and most 4xx/3xx are final.
RETRYABLE_ERRORS = frozenset({ErrorClass.TIMEOUT, ErrorClass.CONNECTION, ErrorClass.TLS, ErrorClass.WORKER_LOST})
#: HTTP statuses worth another try besides 5xx.
RETRYABLE_STATUSES = frozenset({408, 429})


def is_retryable(error_class, status):
    """Say whether a failed attempt should be tried again."""
    if error_class in RETRYABLE_ERRORS:
        return True
    return error_class is ErrorClass.HTTP and status is not None and (status in RETRYABLE_STATUSES or status >= 500)


def honour_retry_after(delay, retry_after, cap):
    """Wait at least what the receiver asked for (Retry-After), but never longer than cap."""
    if retry_after is None:
        return delay
    return max(delay, min(retry_after, cap))


def parse_retry_after(value, now=None):
    """Parse a Retry-After header (seconds or an HTTP date) into seconds; None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is unusable
