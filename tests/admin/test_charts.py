"""The overview's SVG geometry: scales, stacked bars and broken lines."""

from datetime import UTC, datetime, timedelta

import pytest

from app.admin.system import charts
from app.console.overview import CHART_STATUSES, DeliveryBucket, LatencyBucket
from app.models import DeliveryStatus

START = datetime(2026, 11, 23, 21, 50, tzinfo=UTC)


def buckets(*totals):
    return [DeliveryBucket(START + timedelta(minutes=5 * i), {s: totals[i].get(s, 0) for s in CHART_STATUSES})
            for i in range(len(totals))]


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (430, 500), (2001, 5000)])
def test_scales_end_on_a_round_number(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_bars_stack_statuses_bottom_up_in_proportion_and_skip_empty_buckets():
    chart = charts.stacked_bars(buckets({DeliveryStatus.SUCCEEDED: 6, DeliveryStatus.FAILED: 2}, {},
                                        {DeliveryStatus.PENDING: 10}), 300)
    first, third = chart.bars
    succeeded, failed = first.segments
    assert (succeeded.status, failed.status) == ("succeeded", "failed")
    assert succeeded.y + succeeded.height == charts.TOP + charts.HEIGHT  # on the axis
    assert failed.y + failed.height == succeeded.y  # on top of it
    assert succeeded.height == 3 * failed.height and third.segments[0].height == charts.HEIGHT  # scale: 0 to 10
    assert first.title == "21:50–21:55 UTC: 6 succeeded, 2 failed" and third.x > first.x
    assert [label for _, label in chart.x_ticks] == []  # no whole hour divisible by 3 in these 15 minutes


def test_time_ticks_fall_every_three_hours():
    chart = charts.stacked_bars(buckets(*[{}] * 40), 300)
    assert [label for _, label in chart.x_ticks] == ["00:00"]


def test_latency_lines_break_where_nothing_was_attempted():
    rows = [LatencyBucket(START, 2, 100, 200), LatencyBucket(START, 1, 50, 400), LatencyBucket(START, 0, None, None),
            LatencyBucket(START, 1, 300, 300)]
    chart = charts.latency_lines(rows)
    assert [len(run.split()) for run in chart.lines["p95"]] == [2, 2]  # a lone point is drawn as a dot
    lone = chart.lines["p95"][1].split()
    assert lone[0] == lone[1]
    assert chart.y_ticks[-1][1] == "500 ms"
