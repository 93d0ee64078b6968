"""Server-drawn SVG charts for the overview: the geometry is computed here, the markup is in
templates/admin/system/overview_charts.html. No script and no style attributes: colours come from CSS classes."""

import math
from dataclasses import dataclass
from datetime import UTC, timedelta

from babel.dates import format_datetime
from flask_babel import get_locale

#: The plot area in SVG user units (the SVG scales to its container), and the room around it for axis labels.
WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 864, 150, 64, 10, 20
#: Hours between two labelled ticks on the time axis.
TICK_HOURS = 3


@dataclass(frozen=True)
class Segment:
    """One status's part of a stacked bar."""

    status: str
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list
    title: str


@dataclass(frozen=True)
class Chart:
    """What a template needs to draw one chart: bars or lines, axis ticks and the full size."""

    y_ticks: list  # [(y, label)]
    x_ticks: list  # [(x, label)]
    bars: list = ()
    lines: dict = None  # series name -> [points string per unbroken run]
    left: int = LEFT
    width: int = LEFT + WIDTH
    height: int = TOP + HEIGHT + BOTTOM


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten that is at least value (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def span_label(start, seconds):
    """"10:05–10:10 UTC" for a bucket."""
    return f"{start:%H:%M}–{start + timedelta(seconds=seconds):%H:%M} UTC"


def _y_ticks(top, unit=""):
    return [(_y(top * share, top), f"{top * share:g}{unit}") for share in (0, 0.5, 1)]


def _y(value, top):
    """The SVG y of a value on a scale from 0 (the bottom of the plot) to top."""
    return round(TOP + HEIGHT - HEIGHT * value / top, 2)


def _x_ticks(buckets, tick_seconds=TICK_HOURS * 3600, tick_format="%H:%M"):
    """A tick at every bucket starting on a multiple of tick_seconds (UTC), labelled with tick_format."""
    step = WIDTH / len(buckets)
    return [(LEFT + i * step, tick_label(b.start, tick_format)) for i, b in enumerate(buckets)
            if int(b.start.timestamp()) % tick_seconds == 0]


def tick_label(start, tick_format):
    """A tick's label: tick_format is a strftime format of figures ("%H:%M") or a CLDR pattern with names ("EEE d",
    "T2 7" in Vietnamese, "Mon 7" in English), written in the page's language."""
    if "%" in tick_format:
        return start.strftime(tick_format)
    return format_datetime(start, tick_format, tzinfo=UTC, locale=get_locale() or "en")


def stacked_bars(buckets, seconds, ticks=()):
    """Bars of deliveries per bucket, one segment per status with any deliveries, bottom to top."""
    top = nice_ceiling(max((b.total for b in buckets), default=0))
    step = WIDTH / len(buckets)
    bars = []
    for i, bucket in enumerate(buckets):
        if not bucket.total:
            continue
        below, segments = 0, []
        for status, count in bucket.counts.items():
            if count:
                y = _y(below + count, top)
                segments.append(Segment(status.value, y, round(_y(below, top) - y, 2)))
                below += count
        detail = ", ".join(f"{count} {status.value}" for status, count in bucket.counts.items() if count)
        bars.append(Bar(round(LEFT + i * step, 2), round(step * 0.8, 2), segments,
                        f"{span_label(bucket.start, seconds)}: {detail}"))
    return Chart(y_ticks=_y_ticks(top), x_ticks=_x_ticks(buckets, *ticks), bars=bars)


def latency_lines(buckets, ticks=()):
    """A p50 and a p95 line over the buckets that had attempts; a bucket without any breaks the lines."""
    top = nice_ceiling(max((b.p95_ms for b in buckets if b.p95_ms is not None), default=0))
    step = WIDTH / len(buckets)
    lines = {"p50": [], "p95": []}
    run = {"p50": [], "p95": []}
    for i, bucket in enumerate(buckets + [None]):
        if bucket is None or bucket.p95_ms is None:
            for name, points in run.items():
                if points:  # a lone point is drawn as a zero-length segment with round caps
                    lines[name].append(" ".join(points if len(points) > 1 else points * 2))
            run = {"p50": [], "p95": []}
            continue
        x = round(LEFT + (i + 0.5) * step, 2)
        for name, value in (("p50", bucket.p50_ms), ("p95", bucket.p95_ms)):
            run[name].append(f"{x},{_y(value, top)}")
    return Chart(y_ticks=_y_ticks(top, " ms"), x_ticks=_x_ticks(buckets, *ticks), lines=lines)
