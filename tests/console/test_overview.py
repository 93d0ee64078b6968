"""The overview's figures against known rows (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from datetime import timedelta

import pytest

from app.console import overview
from app.delivery.queries import count_deliveries
from app.extensions import db
from app.models import AttemptTrigger, DeliveryAttempt, DeliveryStatus, Endpoint, EndpointState, ErrorClass, utcnow
from tests.support.factories import insert_delivery, update

NOW = utcnow().replace(microsecond=0)


def ago(**delta):
    return NOW - timedelta(**delta)


@pytest.fixture
def known(app, make_endpoint):
    """Four endpoints in every state and nine deliveries whose every time is known."""
    shop, billing = make_endpoint(name="Shop").id, make_endpoint(name="Billing").id
    update(app, Endpoint, billing, consecutive_failures=5)  # the failing threshold in tests is 5
    update(app, Endpoint, make_endpoint(name="Paused").id, state=EndpointState.PAUSED)
    update(app, Endpoint, make_endpoint(name="Off").id, state=EndpointState.DISABLED)
    update(app, Endpoint, make_endpoint(name="Gone").id, deleted_at=ago(days=1))
    rows = {
        "ok_recent": insert_delivery(app, shop, "succeeded", ago(minutes=10), attempts=[(ago(minutes=10), 100, None)]),
        "ok_older": insert_delivery(app, shop, "succeeded", ago(hours=2), attempts=[(ago(hours=2), 300, None)]),
        "failed_recent": insert_delivery(
            app, shop, "failed", ago(minutes=30), last_attempt_at=ago(minutes=20), response_status=500,
            error_class="http", error="HTTP 500 newest", attempts=[(ago(minutes=30), 50, "http"),
                                                                   (ago(minutes=20), 70, "http")]),
        "failed_older": insert_delivery(
            app, shop, "failed", ago(hours=3), last_attempt_at=ago(hours=2), response_status=500, error_class="http",
            error="HTTP 500 older", attempts=[(ago(hours=2), 1000, "http")]),
        "failed_yesterday": insert_delivery(
            app, billing, "failed", ago(hours=26), last_attempt_at=ago(hours=25), error_class="timeout",
            error="no complete response within 10 s", attempts=[(ago(hours=25), 10000, "timeout")]),
        "pending_oldest": insert_delivery(app, shop, "pending", ago(hours=5)),
        "pending_new": insert_delivery(app, billing, "pending", ago(minutes=1)),
        "sending": insert_delivery(app, shop, "sending", ago(minutes=1)),
        "cancelled": insert_delivery(app, shop, "cancelled", ago(minutes=40)),
    }
    # A test event's attempt, slow and failed: left out of every attempt figure, as the success-rate alert does.
    with app.app_context():
        db.session.add(DeliveryAttempt(
            delivery_id=rows["ok_recent"], endpoint_id=shop, number=2, trigger=AttemptTrigger.TEST,
            started_at=ago(minutes=5), duration_ms=99_999, request_url="http://127.0.0.1/", request_headers={},
            error_class=ErrorClass.HTTP))
        db.session.commit()
    return {"shop": shop, "billing": billing, **rows}


def test_success_rate_counts_attempts_started_in_the_window(app, known):
    with app.app_context():
        assert overview.attempt_success(ago(hours=1)) == overview.Rate(attempts=3, succeeded=1)
        assert overview.attempt_success(ago(hours=24)) == overview.Rate(attempts=5, succeeded=2)
        assert overview.attempt_success(ago(hours=24)).percent == 40.0
        assert overview.Rate(0, 0).percent is None


def test_failed_in_the_last_hour_counts_deliveries_whose_last_attempt_failed_them_then(app, known):
    with app.app_context():
        assert overview.failed_since(ago(hours=1)) == 1
        assert overview.failed_since(ago(hours=24)) == 2


def test_backlog_is_the_pending_deliveries_and_the_oldest_of_them(app, known):
    with app.app_context():
        assert overview.pending_backlog() == overview.Backlog(pending=2, oldest_created_at=ago(hours=5))


def test_endpoint_counts_leave_deleted_endpoints_out(app, known):
    with app.app_context():
        assert overview.endpoint_counts() == overview.EndpointCounts(active=2, failing=1, paused=1, disabled=1)


def test_p95_latency_interpolates_over_the_last_day_of_attempts(app, known):
    with app.app_context():
        # 50, 70, 100, 300, 1000 ms: the 95th percentile lies 0.8 of the way from 300 to 1000.
        assert overview.attempt_p95_ms(ago(hours=24)) == 860
        assert overview.attempt_p95_ms(NOW + timedelta(minutes=1)) is None


def test_delivery_buckets_cover_24_hours_in_5_minute_bars_by_current_status(app, known):
    with app.app_context():
        buckets = overview.delivery_buckets(NOW)
    assert len(buckets) == overview.BUCKETS
    assert buckets[0].start == overview.chart_start(NOW) and buckets[-1].start <= NOW < buckets[-1].start + \
        timedelta(seconds=overview.BUCKET_SECONDS)
    totals = {status: sum(b.counts[status] for b in buckets) for status in overview.CHART_STATUSES}
    assert totals == {DeliveryStatus.SUCCEEDED: 2, DeliveryStatus.FAILED: 2, DeliveryStatus.PENDING: 3,
                      DeliveryStatus.CANCELLED: 1}  # sending counts as pending; yesterday's failure is outside
    ten_minutes_ago = next(b for b in buckets if b.start <= ago(minutes=10) < b.start + timedelta(minutes=5))
    assert ten_minutes_ago.counts[DeliveryStatus.SUCCEEDED] == 1


def test_latency_buckets_give_p50_and_p95_per_bar_and_nothing_where_nothing_ran(app, known):
    with app.app_context():
        buckets = overview.latency_buckets(NOW)
    two_hours_ago = next(b for b in buckets if b.start <= ago(hours=2) < b.start + timedelta(minutes=5))
    assert (two_hours_ago.attempts, two_hours_ago.p50_ms, two_hours_ago.p95_ms) == (2, 650, 965)
    assert sum(b.attempts for b in buckets) == 5
    assert all(b.p50_ms is None and b.p95_ms is None for b in buckets if not b.attempts)


def test_top_errors_group_failed_deliveries_by_endpoint_error_and_status(app, known):
    with app.app_context():
        groups = overview.top_errors()
        counts = [count_deliveries(g.filter()) for g in groups]
    assert [(g.endpoint_label, g.error_class, g.http_status, g.count) for g in groups] == [
        ("Shop", ErrorClass.HTTP, 500, 2), ("Billing", ErrorClass.TIMEOUT, None, 1)]
    assert (groups[0].first_seen, groups[0].last_seen, groups[0].latest_error) == (
        ago(hours=2), ago(minutes=20), "HTTP 500 newest")
    assert counts == [2, 1]  # "see the group" and "retry this group" select exactly the counted rows


def test_a_group_filter_is_the_monitor_query_string_of_that_group(app, known):
    with app.app_context():
        shop, billing = overview.top_errors()
    assert shop.filter().to_args() == {"status": "failed", "endpoint_id": known["shop"], "error_class": "http",
                                       "http_status": "500", "resolved": "0"}
    assert billing.filter().to_args()["http_status"] == "none"


def test_take_overview_reads_every_figure_at_one_moment(app, known):
    with app.app_context():
        figures = overview.take_overview(NOW)
    assert (figures.failed_1h, figures.backlog.pending, figures.endpoints.failing, figures.p95_ms_24h) == (1, 2, 1, 860)
    assert figures.chart_start == overview.chart_start(NOW) and len(figures.top_errors) == 2


def test_the_figures_of_an_empty_database_are_zero_or_none(app):
    with app.app_context():
        figures = overview.take_overview(NOW)
    assert (figures.success_1h.percent, figures.failed_1h, figures.backlog, figures.p95_ms_24h, figures.top_errors) == (
        None, 0, overview.Backlog(0, None), None, [])
    assert all(b.total == 0 for b in figures.deliveries) and all(b.attempts == 0 for b in figures.latency)


def test_success_rate_cards_take_the_alert_threshold_colour_and_compare_with_the_previous_hour():
    assert overview.rate_level(overview.Rate(100, 85), 90) == "danger"
    assert overview.rate_level(overview.Rate(100, 95), 90) == "ok"
    assert overview.rate_level(overview.Rate(0, 0), 90) is None
    assert overview.rate_change(overview.Rate(100, 95), overview.Rate(50, 46)) == "vs previous hour: 92.0 %, +3.0 pts"
    assert overview.rate_change(overview.Rate(100, 95), overview.Rate(0, 0)) is None


def test_the_previous_hour_is_the_hour_before_the_last(app, known):
    with app.app_context():
        figures = overview.take_overview(NOW)
        assert figures.success_prev_1h == overview.attempt_success(NOW - 2 * overview.HOUR, NOW - overview.HOUR)
