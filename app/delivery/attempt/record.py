"""Record attempts: the attempt rows, each delivery's next status, endpoint health, retries; defined once.

A batch of attempts is recorded in two statements whatever its size or database: one UPDATE moves
every delivery on (from a VALUES list, compare-and-set on its lease) and one INSERT writes every
attempt row. Whatever a receiver sent is made storable first (app.delivery.attempt.storable). If the
batch cannot be written, each attempt is written alone; if one still cannot, a minimal row (status,
duration, error class, what went wrong) takes its place: an attempt that was made always ends, and
counts. The recovery sweep records attempts whose worker died before this ran (worker_lost).

A database that cannot answer at all (app.outages) is not tried again attempt by attempt, which would wait out the
same timeout once per delivery: app.outages.DatabaseUnavailable ends the batch at once, and the deliveries, still
leased, are recorded by the sweep once their leases expire.
"""

import functools
import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import Integer, Text, bindparam, cast, column, func, insert, select, union_all, update
from sqlalchemy.exc import SQLAlchemyError

from app import metrics, outages
from app.credentials.masking import mask_outbound_headers
from app.delivery import operational
from app.delivery.attempt import endpoint_health, fair, final, postgres, receiver_control, retry, storable, superseded
from app.delivery.attempt.claim import deliveries
from app.extensions import db
from app.logs import log_attempt
from app.models import AttemptTrigger, DeliveryAttempt, DeliveryStatus, ErrorClass, utcnow
from app.models.types import UTCDateTime, enum_column
from app.outbox import enqueue_after_commit
from app.staff.settings import get_setting

log = logging.getLogger(__name__)

#: One VALUES row per attempt: what the UPDATE moving its delivery on needs.
_MOVE = (column("id", Text), column("token", Text), column("new_status", enum_column(DeliveryStatus)),
         column("next_at", UTCDateTime), column("last_at", UTCDateTime), column("scheduled", Integer),
         column("response_status", Integer), column("error_class", enum_column(ErrorClass)), column("error", Text))


def next_step(claim, outcome, now):
    """Decide the delivery's next status and, when it stays pending, when and in how long."""
    if outcome.ok:
        return DeliveryStatus.SUCCEEDED, None, None
    if claim.trigger is not AttemptTrigger.SCHEDULED:  # a one-off attempt: back where it came from
        if claim.resume_at is None:
            return DeliveryStatus.FAILED, None, None
        resume_at = max(claim.resume_at, now)
        return DeliveryStatus.PENDING, resume_at, (resume_at - now).total_seconds()
    if not retry.is_retryable(outcome.error_class, outcome.status):
        return DeliveryStatus.FAILED, None, None
    config = current_app.config
    schedule = claim.retry_schedule or get_setting("retry_schedule")
    delay = retry.next_delay(claim.scheduled_attempt_count + 1, schedule, claim.max_attempts,
                             config["WEBHOOK_RETRY_JITTER"])
    if delay is None:
        return DeliveryStatus.FAILED, None, None
    delay = retry.honour_retry_after(delay, retry.parse_retry_after(outcome.retry_after, now),
                                     config["WEBHOOK_RETRY_AFTER_MAX_SECONDS"])
    return DeliveryStatus.PENDING, now + timedelta(seconds=delay), delay


#: The columns of an attempt row the pipeline writes (attempt_values' keys); any other column takes its default.
ATTEMPT_COLUMNS = ("delivery_id", "endpoint_id", "number", "trigger", "triggered_by", "started_at", "duration_ms",
                   "request_url", "request_headers", "request_body", "response_status", "response_body",
                   "response_body_encoding", "response_body_truncated", "error_class", "error", "will_retry",
                   "next_attempt_at")


class RecordedAttempt:
    """An attempt as written: its row's values (ATTEMPT_COLUMNS) as attributes; what the pipeline returns.

    Not a mapped DeliveryAttempt: building one (SQLAlchemy's instrumented attributes) cost a worker more than the
    attempt's log line and metrics together, for results nobody attaches to a session."""

    __slots__ = ATTEMPT_COLUMNS

    def __init__(self, row):
        for name in ATTEMPT_COLUMNS:
            setattr(self, name, row[name])

    def __repr__(self):
        return f"<RecordedAttempt {self.delivery_id} #{self.number} {self.response_status or self.error_class}>"


def attempt_values(claim, outcome, started_at, *, will_retry, next_at):
    """The attempt row for an outcome, every text made storable."""
    stored = storable.body(outcome.content, current_app.config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"])
    return dict(
        delivery_id=claim.delivery_id, endpoint_id=claim.endpoint_id, number=claim.number, trigger=claim.trigger,
        triggered_by=claim.triggered_by, started_at=started_at, duration_ms=outcome.duration_ms,
        request_url=storable.text(claim.url), request_headers=mask_outbound_headers(claim.headers),
        request_body=storable.text(claim.formatted),
        response_status=outcome.status, response_body=stored.text, response_body_encoding=stored.encoding,
        response_body_truncated=stored.truncated, error_class=outcome.error_class,
        error=storable.text(outcome.error, 2000), will_retry=will_retry, next_attempt_at=next_at,
    )


@functools.cache
def move_statement(dialect, size):
    """UPDATE deliveries FROM (VALUES ...) for size attempts; each row moves only if its lease still holds."""
    # A UNION ALL of SELECTs of bind parameters, not a VALUES list: SQLAlchemy caches the compiled form of this one
    # (it compiles a VALUES construct anew on every call, which cost more than the rest of a record).
    rows = union_all(*(select(*(bindparam(f"{c.name}_{i}", type_=c.type).label(c.name) for c in _MOVE))
                       for i in range(size))).cte("moves") if size > 1 else \
        select(*(bindparam(f"{c.name}_0", type_=c.type).label(c.name) for c in _MOVE)).cte("moves")
    m = rows.c
    typed = (lambda col: cast(col, col.type)) if dialect == "postgresql" else (lambda col: col)  # NULL-only columns
    return (update(deliveries)
            .where(deliveries.c.id == m.id, deliveries.c.status == DeliveryStatus.SENDING,
                   deliveries.c.lease_token == m.token)
            .values(status=typed(m.new_status), next_attempt_at=typed(m.next_at), last_attempt_at=typed(m.last_at),
                    attempt_count=deliveries.c.attempt_count + 1,
                    scheduled_attempt_count=deliveries.c.scheduled_attempt_count + typed(m.scheduled),
                    lease_token=None, lease_expires_at=None, next_trigger=None, next_triggered_by=None, resume_at=None,
                    enqueued_at=None, held_reason=None, last_response_status=typed(m.response_status),
                    last_error_class=typed(m.error_class), last_error=m.error)
            .returning(deliveries.c.id))


def _health(plan, updated_endpoints, now):
    """Update the endpoint after this attempt where it changes anything; return True if it is disabled now."""
    claim, outcome = plan
    if outcome.error_class is ErrorClass.WORKER_LOST:
        return False  # nothing is known about the endpoint
    if outcome.ok and (claim.endpoint_healthy or updated_endpoints.get(claim.endpoint_id) == "ok"):
        return False  # nothing would change
    updated_endpoints[claim.endpoint_id] = "ok" if outcome.ok else "failed"
    return endpoint_health.record_outcome(claim.endpoint_id, outcome, now, claim.endpoint_alerted,
                                          operational_endpoint=claim.endpoint_operational)


def _plan(results, *, with_health=True):
    """Decide each attempt's outcome for its delivery (health updated in the current transaction when asked).

    Returns ([(claim, outcome, started_at, status, next_at, delay)], the bind parameters of the move statement).
    """
    now, updated, moves, planned = utcnow(), {}, {}, []
    for i, (claim, outcome) in enumerate(results):
        started_at = now - timedelta(milliseconds=outcome.duration_ms)
        outcome, stopped = receiver_control.heed(claim.endpoint_id, outcome, now, pause=with_health)
        disabled = with_health and _health((claim, outcome), updated, now)
        if stopped:
            status, next_at, delay = DeliveryStatus.FAILED, None, None
        elif disabled:
            status, next_at, delay = DeliveryStatus.PENDING, now, None  # disabled: waits with the others
        else:
            status, next_at, delay = next_step(claim, outcome, now)
        planned.append((claim, outcome, started_at, status, next_at, delay))
        moves.update({f"id_{i}": claim.delivery_id, f"token_{i}": claim.lease_token, f"new_status_{i}": status,
                      f"next_at_{i}": next_at, f"last_at_{i}": started_at,
                      f"scheduled_{i}": 1 if claim.trigger is AttemptTrigger.SCHEDULED else 0,
                      f"response_status_{i}": outcome.status, f"error_class_{i}": outcome.error_class,
                      f"error_{i}": storable.text(outcome.error, 2000)})
    return planned, moves


def _attempts(planned, moved):
    """The attempt rows of planned attempts, [(values, retry delay or None)]; only a moved delivery retries."""
    written = []
    for claim, outcome, started_at, status, next_at, delay in planned:
        retrying = claim.delivery_id in moved and status is DeliveryStatus.PENDING and delay is not None
        written.append((attempt_values(claim, outcome, started_at, will_retry=retrying,
                                       next_at=next_at if retrying else None), delay if retrying else None))
    return written


def _write(results, *, with_health=True):
    """Record results [(claim, outcome)] in the current transaction; return [(attempt values, delay)]."""
    planned, moves = _plan(results, with_health=with_health)
    connection = db.session.connection()
    moved = set(connection.execute(move_statement(connection.dialect.name, len(planned)), moves).scalars())
    written = _attempts(planned, moved)
    connection.execute(insert(DeliveryAttempt.__table__), [row for row, _ in written])
    final.announce([(claim, outcome, status) for claim, outcome, _, status, _, _ in planned
                    if claim.delivery_id in moved and status in final.EVENTS], utcnow())
    superseded.settle_originals([claim for claim, _, _, status, _, _ in planned
                                 if claim.delivery_id in moved and status is DeliveryStatus.SUCCEEDED])
    return written


@functools.cache
def _record_successes_statement(size, start=False, ask_idle=False):
    """PostgreSQL: record size successful attempts in one statement: the deliveries moved on by move_statement, as
    a data-modifying WITH, and the attempt rows (bind parameters a_<column>_<i>) inserted. With start, the same
    statement moves the slot's next reserved delivery to sending (fair.start_send_statement) and returns whether
    it did; with ask_idle (and no start), it returns whether the slot may stop draining (fair.nothing_more)."""
    moved = move_statement("postgresql", size).cte("moved")
    table = DeliveryAttempt.__table__
    # INSERT ... SELECT, which SQLAlchemy caches compiled (a multi-row VALUES it compiles anew each time).
    rows = [select(*(bindparam(f"a_{name}_{i}", type_=table.c[name].type).label(name) for name in ATTEMPT_COLUMNS))
            for i in range(size)]
    statement = insert(table).from_select(ATTEMPT_COLUMNS, union_all(*rows) if size > 1 else rows[0]).add_cte(moved)
    if not start:
        return statement.returning(fair.nothing_more()) if ask_idle else statement
    started = fair.start_send_statement("postgresql").returning(deliveries.c.id).cte("started")
    return statement.add_cte(started).returning(select(func.count()).select_from(started).scalar_subquery())


def _write_successes(results, start=None, idle_endpoint=None):
    """PostgreSQL, every attempt a success to a healthy endpoint (nothing else to write): one autocommitted
    statement moving the deliveries and inserting the attempts, and starting the claim start's send if given, or
    else, given idle_endpoint, asking whether the slot may stop draining (fair.nothing_more).
    Returns ([(attempt values, None)], whether start was moved to sending (None if not given), whether the slot may
    stop (None if not asked))."""
    planned, moves = _plan(results, with_health=False)
    written = _attempts(planned, moved=set())
    params = {**moves, **{f"a_{name}_{i}": row[name] for i, (row, _) in enumerate(written) for name in row}}
    ask_idle = start is None and idle_endpoint is not None
    if start is not None:
        params.update(fair.start_params(start, utcnow()))
    elif ask_idle:
        params.update(fair.nothing_more_params(idle_endpoint, utcnow()))
    postgres.release_reads()
    answer = postgres.run(_record_successes_statement(len(written), start is not None, ask_idle), params)
    return written, bool(answer) if start is not None else None, bool(answer) if ask_idle else None


def _commit(written):
    retrying = [(row, delay) for row, delay in written if delay is not None]
    for row, delay in retrying:
        enqueue_after_commit(db.session, row["delivery_id"], delay)
    if retrying or db.session().in_transaction():  # not after the one-statement record alone: nothing to commit
        db.session.commit()
    for row, _ in written:
        log_attempt(row)
        metrics.observe_attempt(succeeded=row["error_class"] is None and row["response_status"] is not None,
                                error_class=row["error_class"].value if row["error_class"] else None,
                                duration_ms=row["duration_ms"])
    return [RecordedAttempt(row) for row, _ in written]


def record_results(results):
    """Record [(claim, outcome)] in one transaction; on failure one by one, then as minimal rows.

    Returns the RecordedAttempts written. An attempt whose minimal row cannot be written
    either is left to its lease: the sweep records it as worker_lost. Raises DatabaseUnavailable (counted in
    app.outages, logged once per outage) as soon as the database cannot answer at all.
    """
    return _record(results)[0]


def record_and_start(result, upcoming, ask_idle=False):
    """Record one (claim, outcome) as record_results does and, where that takes one statement (a plain success on
    PostgreSQL), move upcoming, the slot's next reserved claim, to sending in it: one round trip between two
    sends, not two; or, with ask_idle and no upcoming, ask in it whether the slot may stop draining
    (fair.nothing_more). Returns (the records written, whether upcoming was started: None if it was not tried, and
    fair.start_send must move it, whether the slot may stop: None if not known)."""
    claim = result[0]
    return _record([result], upcoming if upcoming is not None and upcoming.reserved else None,
                   claim.endpoint_id if ask_idle and upcoming is None else None)


def _record(results, start=None, idle_endpoint=None):
    if not results:
        return [], None, None
    begun = time.monotonic()  # a failure of a record begun before an outage ended belongs to it (app.outages)
    if postgres.available() and all(_plain_success(claim, outcome) for claim, outcome in results) \
            and not operational.wants("delivery.succeeded"):
        try:
            written, started, idle = _write_successes(results, start, idle_endpoint)
            return _commit(written), started, idle
        except SQLAlchemyError as exc:
            _stop_if_unavailable(exc, results, begun)
            log.warning("could not record %d successes in one statement", len(results), exc_info=True)
    try:
        return _commit(_write(results)), None, None
    except SQLAlchemyError as exc:
        _rollback()
        _stop_if_unavailable(exc, results, begun)
        log.warning("could not record %d attempts together; recording them one by one", len(results), exc_info=True)
    if len(results) > 1:
        return [attempt for result in results for attempt in record_results([result])], None, None
    (claim, outcome), = results
    try:
        return _commit(_write([(claim, minimal(outcome))], with_health=False)), None, None
    except SQLAlchemyError as exc:
        _rollback()
        _stop_if_unavailable(exc, results, begun)
        log.error("could not record attempt %d of delivery %s; the sweep will", claim.number, claim.delivery_id)
        return [], None, None


def _plain_success(claim, outcome):
    """A success that writes nothing but the move and the attempt: healthy endpoint, no control, not a resend."""
    return outcome.ok and claim.endpoint_healthy and not outcome.delivery_control and not claim.resent_from_id


def _stop_if_unavailable(error, results, begun):
    if outages.database_unavailable(error):
        outages.database.failed(error, started=begun)
        raise outages.DatabaseUnavailable(
            f"{len(results)} attempts left to their leases: {type(error).__name__}") from None


def _rollback():
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone; the session starts afresh with another
        pass


def minimal(outcome):
    """The outcome with only what any database can store: status, duration, error class, and why."""
    reason = f"the attempt's details could not be stored; {outcome.error or 'the receiver answered'}"
    return type(outcome)(duration_ms=outcome.duration_ms, status=outcome.status, error_class=outcome.error_class,
                         error=storable.text(reason, 2000), retry_after=outcome.retry_after,
                         delivery_control=outcome.delivery_control)
