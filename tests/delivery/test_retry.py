import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.config import DEFAULT_RETRY_SCHEDULE
from app.delivery.attempt import retry
from app.models import ErrorClass

SCHEDULE = list(DEFAULT_RETRY_SCHEDULE)


@pytest.mark.parametrize(("error_class", "status", "expected"), [
    (ErrorClass.TIMEOUT, None, True),
    (ErrorClass.CONNECTION, None, True),
    (ErrorClass.TLS, None, True),
    (ErrorClass.HTTP, 500, True),
    (ErrorClass.HTTP, 503, True),
    (ErrorClass.HTTP, 408, True),
    (ErrorClass.HTTP, 429, True),
    (ErrorClass.HTTP, 400, False),
    (ErrorClass.HTTP, 404, False),
    (ErrorClass.HTTP, 410, False),
    (ErrorClass.HTTP, 301, False),
    (ErrorClass.BLOCKED, None, False),
    (ErrorClass.CONFIG, None, False),
])
def test_which_outcomes_retry(error_class, status, expected):
    assert retry.is_retryable(error_class, status) is expected


def test_default_schedule_is_eight_attempts_over_about_28_hours():
    delays = [retry.next_delay(n, SCHEDULE, 8, jitter=0) for n in range(1, 9)]
    assert delays[:7] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert delays[7] is None  # the 8th attempt was the last
    assert 27 * 3600 < sum(delays[:7]) < 29 * 3600


def test_jitter_stays_within_twenty_percent_and_varies():
    rng = random.Random(7)
    delays = [retry.next_delay(2, SCHEDULE, 8, jitter=0.2, rng=rng) for _ in range(200)]
    assert all(240 <= d <= 360 for d in delays)
    assert max(delays) - min(delays) > 60


def test_more_attempts_than_schedule_repeat_the_last_step():
    assert retry.next_delay(9, [5, 60], 12, jitter=0) == 60
    assert retry.next_delay(12, [5, 60], 12, jitter=0) is None


def test_retry_after_lengthens_but_is_capped():
    assert retry.honour_retry_after(5, 120, cap=3600) == 120
    assert retry.honour_retry_after(300, 10, cap=3600) == 300  # never sooner than the schedule
    assert retry.honour_retry_after(5, 10**7, cap=3600) == 3600
    assert retry.honour_retry_after(5, None, cap=3600) == 5


def test_parse_retry_after_seconds_and_http_date():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry.parse_retry_after("120", now) == 120
    assert retry.parse_retry_after(format_datetime(now + timedelta(minutes=2), usegmt=True), now) == 120
    assert retry.parse_retry_after("soon", now) is None
    assert retry.parse_retry_after("-5", now) == 0
    assert retry.parse_retry_after(None, now) is None
