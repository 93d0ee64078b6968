"""The console overview's figures: one function per figure, each one query over a bounded window.

Every figure can be reproduced from the database with the SQL its docstring describes; times are UTC
and windows end at `now`, which the caller passes so one page shows one moment.
"""

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, extract, func, literal_column, select

from app.delivery.endpoints.figures import is_failing, percentile
from app.delivery.queries import DeliveryFilter, count_deliveries
from app.extensions import db
from app.models import (
    AttemptTrigger,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Endpoint,
    EndpointState,
    ErrorClass,
    InboundCount,
    InboundSource,
)

#: The short and the long window of the KPI cards.
HOUR, DAY = timedelta(hours=1), timedelta(hours=24)
#: Width of one chart bar, and how many bars make the 24-hour charts (the last one is the current 5 minutes).
BUCKET_SECONDS, BUCKETS = 300, 288


@dataclass(frozen=True)
class ChartRange:
    """A range the charts can cover: its key (?range=), label (translatable), bar width, bar count and tick spacing
    (tick_format: strftime figures, or a CLDR pattern when the label has names, e.g. weekdays)."""

    key: str
    label: str
    bucket_seconds: int
    buckets: int
    tick_seconds: int
    tick_format: str = "%H:%M"

    @property
    def bar_label(self):
        """What one bar covers, in words in the page's language ("5 minutes")."""
        minutes = self.bucket_seconds // 60
        if minutes == 60:
            return _("hour")
        return _("%(count)s minutes", count=minutes) if minutes > 1 else _("minute")


#: The charts' ranges, in the order the page offers them; DEFAULT_RANGE when none is asked for.
RANGES = {r.key: r for r in (
    ChartRange("1h", _l("%(count)s h", count=1), 60, 60, 600),
    ChartRange("6h", _l("%(count)s h", count=6), 300, 72, 3600),
    ChartRange("24h", _l("%(count)s h", count=24), BUCKET_SECONDS, BUCKETS, 3 * 3600),
    ChartRange("7d", _l("%(count)s d", count=7), 3600, 168, 86400, "EEE d"),
)}
DEFAULT_RANGE = RANGES["24h"]
#: How many error groups the overview lists.
TOP_ERRORS = 10
#: Failed deliveries nobody marked resolved: the monitor's Failed tab, and what the overview counts as failed.
OPEN_FAILURES = DeliveryFilter(status=DeliveryStatus.FAILED, resolved=False)
#: The statuses the delivery chart stacks, bottom to top; "sending" is counted with pending.
CHART_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.CANCELLED)


@dataclass(frozen=True)
class Rate:
    """Attempts started in a window and how many of them succeeded."""

    attempts: int
    succeeded: int

    @property
    def percent(self):
        return round(100 * self.succeeded / self.attempts, 1) if self.attempts else None


@dataclass(frozen=True)
class Backlog:
    """Deliveries waiting for an attempt, and when the oldest of them was created."""

    pending: int
    oldest_created_at: datetime | None


@dataclass(frozen=True)
class EndpointCounts:
    """Endpoints not deleted, by state; failing ones are enabled endpoints past the failure threshold."""

    active: int
    failing: int
    paused: int
    disabled: int


@dataclass(frozen=True)
class DeliveryBucket:
    """Deliveries created in one 5-minute bucket, by their current status."""

    start: datetime
    counts: dict  # DeliveryStatus -> count, every CHART_STATUSES member present

    @property
    def total(self):
        return sum(self.counts.values())


@dataclass(frozen=True)
class LatencyBucket:
    """Attempts started in one 5-minute bucket and their median and 95th percentile duration."""

    start: datetime
    attempts: int
    p50_ms: int | None
    p95_ms: int | None


@dataclass(frozen=True)
class ErrorGroup:
    """Failed deliveries sharing endpoint, error class and HTTP status, with when they last failed."""

    endpoint_id: str
    endpoint_label: str
    error_class: ErrorClass
    http_status: int | None
    count: int
    first_seen: datetime
    last_seen: datetime
    latest_error: str | None = None

    def filter(self):
        """The monitor's filter for exactly this group: what "see the group" shows and "retry" retries."""
        return OPEN_FAILURES.replace(endpoint_id=self.endpoint_id, error_class=self.error_class,
                                     http_status=str(self.http_status) if self.http_status is not None else "none")


def _is_postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def bucket_of(moment, seconds=BUCKET_SECONDS):
    """The number of the bucket of that many seconds (counted from the Unix epoch, UTC) a moment falls in."""
    return int(moment.timestamp()) // seconds


def chart_start(now, span=DEFAULT_RANGE):
    """Start of the first bar of the charts over span (a ChartRange) ending with the bucket holding now."""
    return _bucket_start(bucket_of(now, span.bucket_seconds) - span.buckets + 1, span.bucket_seconds)


def _bucket_start(number, seconds=BUCKET_SECONDS):
    return datetime.fromtimestamp(number * seconds, UTC)


def _bucket_column(column, seconds=BUCKET_SECONDS):
    """SQL: the bucket number of a UTC timestamp column, computed the same way on both databases."""
    width = literal_column(str(seconds))  # a literal, so GROUP BY matches the selected expression
    if _is_postgres():
        return cast(func.floor(extract("epoch", column) / width), Integer)
    return cast(func.strftime("%s", column), Integer) // width  # SQLite stores naive UTC text


def _attempts_since(since, until=None):
    """SQL: attempts started at or after since (and before until), test events left out (as the success-rate alert
    counts them)."""
    bounds = (DeliveryAttempt.started_at < until,) if until is not None else ()
    return (DeliveryAttempt.started_at >= since, DeliveryAttempt.trigger != AttemptTrigger.TEST, *bounds)


def attempt_success(since, until=None):
    """Attempts started at or after since (and before until), and those that succeeded (no error class)."""
    attempts, succeeded = db.session.execute(
        select(func.count(), func.count().filter(DeliveryAttempt.error_class.is_(None)))
        .where(*_attempts_since(since, until))).one()
    return Rate(attempts, succeeded)


def failed_since(since):
    """Deliveries now failed (and not marked resolved) whose last attempt started at or after since."""
    return count_deliveries(OPEN_FAILURES.replace(attempted_since=since))


def pending_backlog():
    """Deliveries pending now, and the creation time of the oldest one."""
    pending, oldest = db.session.execute(
        select(func.count(), func.min(Delivery.created_at)).where(Delivery.is_pending())).one()
    return Backlog(pending, oldest)


def endpoint_counts():
    """Endpoints that are not deleted: enabled ("active"), failing among those, paused and disabled."""
    rows = db.session.execute(
        select(Endpoint.state, func.count(), func.count().filter(is_failing()))
        .where(Endpoint.deleted_at.is_(None)).group_by(Endpoint.state)).all()
    by_state = {state: (total, failing) for state, total, failing in rows}
    active, failing = by_state.get(EndpointState.ENABLED, (0, 0))
    return EndpointCounts(active=active, failing=failing, paused=by_state.get(EndpointState.PAUSED, (0, 0))[0],
                          disabled=by_state.get(EndpointState.DISABLED, (0, 0))[0])


def attempt_p95_ms(since):
    """The 95th percentile duration (ms, interpolated as percentile_cont) of attempts started at or after since."""
    if _is_postgres():
        value = db.session.scalar(select(func.percentile_cont(0.95).within_group(DeliveryAttempt.duration_ms))
                                  .where(*_attempts_since(since)))
        return int(round(value)) if value is not None else None
    durations = db.session.scalars(select(DeliveryAttempt.duration_ms).where(*_attempts_since(since))
                                   .order_by(DeliveryAttempt.duration_ms)).all()
    return percentile(durations, 0.95) if durations else None


def delivery_buckets(now, span=DEFAULT_RANGE):
    """Deliveries created in each bucket of span (5 minutes over the last 24 hours by default), by current status;
    empty buckets included."""
    seconds, size = span.bucket_seconds, span.buckets
    bucket = _bucket_column(Delivery.created_at, seconds)
    rows = db.session.execute(
        select(bucket, Delivery.status, func.count()).where(Delivery.created_at >= chart_start(now, span))
        .group_by(bucket, Delivery.status)).all()
    first = bucket_of(now, seconds) - size + 1
    counts = [{status: 0 for status in CHART_STATUSES} for _ in range(size)]
    for number, status, count in rows:
        if 0 <= number - first < size:
            shown = DeliveryStatus.PENDING if status is DeliveryStatus.SENDING else status
            counts[number - first][shown] += count
    return [DeliveryBucket(_bucket_start(first + i, seconds), counts[i]) for i in range(size)]


def latency_buckets(now, span=DEFAULT_RANGE):
    """p50 and p95 attempt duration in each bucket of span; None where nothing was attempted."""
    by_number = _latency_postgres(now, span) if _is_postgres() else _latency_python(now, span)
    first = bucket_of(now, span.bucket_seconds) - span.buckets + 1
    return [LatencyBucket(_bucket_start(first + i, span.bucket_seconds), *by_number.get(first + i, (0, None, None)))
            for i in range(span.buckets)]


def _latency_postgres(now, span):
    bucket, duration = _bucket_column(DeliveryAttempt.started_at, span.bucket_seconds), DeliveryAttempt.duration_ms
    rows = db.session.execute(
        select(bucket, func.count(), func.percentile_cont(0.5).within_group(duration),
               func.percentile_cont(0.95).within_group(duration))
        .where(*_attempts_since(chart_start(now, span))).group_by(bucket)).all()
    return {number: (n, int(round(p50)), int(round(p95))) for number, n, p50, p95 in rows}


def _latency_python(now, span):
    durations = {}
    for started_at, ms in db.session.execute(select(DeliveryAttempt.started_at, DeliveryAttempt.duration_ms)
                                             .where(*_attempts_since(chart_start(now, span)))):
        durations.setdefault(bucket_of(started_at, span.bucket_seconds), []).append(ms)
    ordered = {number: sorted(values) for number, values in durations.items()}
    return {number: (len(values), percentile(values, 0.5), percentile(values, 0.95))
            for number, values in ordered.items()}


def top_errors(limit=TOP_ERRORS):
    """The largest groups of failed deliveries by endpoint x error class x HTTP status, with first/last seen."""
    key = (Delivery.endpoint_id, Delivery.last_error_class, Delivery.last_response_status)
    rows = db.session.execute(
        select(*key, func.count(), func.min(Delivery.last_attempt_at), func.max(Delivery.last_attempt_at))
        .where(*OPEN_FAILURES.conditions()).group_by(*key)
        .order_by(func.count().desc(), func.max(Delivery.last_attempt_at).desc()).limit(limit)).all()
    labels = dict(db.session.execute(select(Endpoint.id, func.coalesce(Endpoint.name, Endpoint.url))
                                     .where(Endpoint.id.in_({row[0] for row in rows}))).all())
    groups = [ErrorGroup(endpoint_id, labels.get(endpoint_id, endpoint_id), error_class, status, count, first, last)
              for endpoint_id, error_class, status, count, first, last in rows]
    return [_with_latest_error(group) for group in groups]


def _with_latest_error(group):
    latest = db.session.scalar(select(Delivery.last_error).where(*group.filter().conditions())
                               .order_by(Delivery.last_attempt_at.desc()).limit(1))
    return dataclasses.replace(group, latest_error=latest)


@dataclass(frozen=True)
class Overview:
    """Every figure of the overview page, taken at one moment."""

    now: datetime
    success_1h: Rate
    #: The hour before the last one: what "vs previous hour" compares with.
    success_prev_1h: Rate
    success_24h: Rate
    failed_1h: int
    backlog: Backlog
    endpoints: EndpointCounts
    p95_ms_24h: int | None
    deliveries: list
    latency: list
    top_errors: list
    #: The range the charts cover (a ChartRange).
    span: ChartRange = DEFAULT_RANGE

    @property
    def chart_start(self):
        return chart_start(self.now, self.span)


def rate_level(rate, threshold):
    """The card colour of a success rate: danger under the alert threshold, ok at or above it, none without data."""
    if rate.percent is None:
        return None
    return "danger" if rate.percent < threshold else "ok"


def rate_change(rate, previous):
    """Say how a success rate compares with the previous hour's ("vs previous hour: 97.0 %, +2.0 pts"), or None."""
    if rate.percent is None or previous.percent is None:
        return None
    delta = round(rate.percent - previous.percent, 1)
    return f"vs previous hour: {previous.percent} %, {delta:+.1f} pts" if delta else \
        f"vs previous hour: {previous.percent} %, unchanged"


@dataclass(frozen=True)
class InboundFigures:
    """Inbound webhooks over the last 24 hours (counted per clock hour: this one and the 23 before it): requests
    accepted as new events, and processings that ended processed or failed."""

    received_24h: int
    processed_24h: int
    failed_24h: int


def inbound_figures(now):
    """The inbound cards' figures, or None while no source exists.

    SELECT kind, sum(count) FROM inbound_counts WHERE hour_start > <this hour - 24 h>
    AND kind IN ('received', 'processed', 'failed') GROUP BY kind
    """
    if db.session.scalar(select(InboundSource.id).limit(1)) is None:
        return None
    since = now.replace(minute=0, second=0, microsecond=0) - DAY
    sums = dict(db.session.execute(
        select(InboundCount.kind, func.sum(InboundCount.count))
        .where(InboundCount.hour_start > since, InboundCount.kind.in_(("received", "processed", "failed")))
        .group_by(InboundCount.kind)).all())
    return InboundFigures(*(int(sums.get(kind) or 0) for kind in ("received", "processed", "failed")))


def take_overview(now, span=DEFAULT_RANGE):
    """Compute every figure of the overview as of now, the charts over span (a ChartRange)."""
    return Overview(
        now=now, success_1h=attempt_success(now - HOUR), success_prev_1h=attempt_success(now - 2 * HOUR, now - HOUR),
        success_24h=attempt_success(now - DAY),
        failed_1h=failed_since(now - HOUR), backlog=pending_backlog(), endpoints=endpoint_counts(),
        p95_ms_24h=attempt_p95_ms(now - DAY), deliveries=delivery_buckets(now, span),
        latency=latency_buckets(now, span), top_errors=top_errors(), span=span,
    )
