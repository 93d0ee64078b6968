"""Claim deliveries for an attempt: every ready delivery no gate holds in one statement, the others one by one.

A delivery is *ready* when it is pending, due, and its endpoint is in service (enabled; a test send
ignores the state). A *gate* (gates.py) may hold a ready delivery back without using up an attempt. One
statement claims every ready delivery no gate concerns, on any database (_postgres_claim_statement builds
PostgreSQL's single-round-trip form from the same parts); the others pass their gates one by one and are
claimed by the same values (claim_values: what a claim sets is defined once).

A claim moves the delivery from pending to sending with a lease and commits at once, so no database
connection is held while HTTP requests run.
"""

import dataclasses
import functools
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, and_, bindparam, case, cast, exists, func, literal, or_, select, update

from app.delivery import scheduling
from app.delivery.attempt import formatting, ordering, postgres
from app.delivery.attempt.endpoint_health import HEALTH_WRITE_INTERVAL
from app.delivery.attempt.gates import GATES, Deferred, held_back
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus, Endpoint, EndpointState, Message, utcnow
from app.models.types import UTCDateTime
from app.outbox import enqueue_after_commit
from app.work.leases import new_token, take_expired

deliveries, endpoints, messages = Delivery.__table__, Endpoint.__table__, Message.__table__


@dataclass(frozen=True)
class Claim:
    """A delivery claimed for one attempt, with everything the attempt needs copied out of the database."""

    delivery_id: str
    lease_token: str
    number: int
    trigger: AttemptTrigger
    triggered_by: str | None
    scheduled_attempt_count: int
    resume_at: object
    endpoint_id: str
    endpoint_alerted: bool
    #: The endpoint had no failure and a success within HEALTH_WRITE_INTERVAL: a success changes nothing.
    endpoint_healthy: bool
    url: str
    body: bytes
    headers: dict
    timeout_seconds: int
    max_attempts: int
    retry_schedule: list | None
    rate_limit_per_second: int | None = None
    config_error: str | None = None
    #: When it was due: a slot sends its claims oldest due first.
    due_at: object = None
    #: The endpoint receives Hookyard's own events: its outcomes announce nothing (no event about an event).
    endpoint_operational: bool = False
    #: For a claim the sweep took from a lost worker: whether its send may have begun (see claim_expired).
    maybe_sent: bool = True
    #: A fair claim's batch: each but the first waits reserved until its turn (claim_values, fair.start_send).
    reserved: bool = False
    #: The body as text when the endpoint's payload format made it (recorded with the attempt); None: the payload.
    formatted: str | None = None
    #: The message this delivery's was resent from: its success settles the failed original (superseded.py).
    resent_from_id: str | None = None
    ordered: bool = False  #: It has an ordering key: its attempt may let the next of its key go (ordering.in_turn).


#: Everything one attempt needs, read with the claim.
CLAIM_COLUMNS = (
    deliveries.c.id, deliveries.c.next_attempt_at, deliveries.c.next_trigger, deliveries.c.next_triggered_by,
    deliveries.c.attempt_count, deliveries.c.scheduled_attempt_count, deliveries.c.resume_at, deliveries.c.message_id,
    deliveries.c.ordering_sequence, endpoints.c.id.label("endpoint_id"), endpoints.c.url, endpoints.c.signing,
    endpoints.c.secret_encrypted, endpoints.c.retired_secrets, endpoints.c.headers_encrypted,
    endpoints.c.timeout_seconds, endpoints.c.max_attempts, endpoints.c.retry_schedule,
    endpoints.c.rate_limit_per_second, endpoints.c.breaker_failures, endpoints.c.breaker_open_until,
    endpoints.c.alerted, endpoints.c.consecutive_failures, endpoints.c.last_success_at, endpoints.c.payload_format,
    endpoints.c.operational, messages.c.payload, messages.c.resent_from_id,
)


def pending_and_due(table=deliveries, in_turn=True):
    """The delivery (a row of table) waits for an attempt, is due ("due"; a scheduled one not before its deliver_at,
    "on_time"), no slot has it reserved (a lease run out frees it), and (in_turn) its key's turn has come (ordering)."""
    return and_(table.c.status == DeliveryStatus.PENDING, table.c.next_attempt_at <= bindparam("due"),
                scheduling.not_early(table),
                or_(table.c.lease_token.is_(None), table.c.lease_expires_at < bindparam("due")),
                ordering.in_turn(table) if in_turn else True)


def is_test(table=deliveries):
    return table.c.next_trigger == AttemptTrigger.TEST


def in_service(table=deliveries):
    """The delivery's endpoint takes attempts: not deleted, and enabled (a test send ignores the state)."""
    return and_(endpoints.c.deleted_at.is_(None), or_(endpoints.c.state == EndpointState.ENABLED, is_test(table)))


def ungated():
    """No gate concerns the delivery (a test send passes every gate)."""
    return or_(is_test(), and_(*(gate.clear for gate in GATES)))


def seconds_after(dialect, moment, seconds):
    """SQL for moment + seconds (a numeric SQL expression), in the dialect's own date arithmetic."""
    if dialect == "postgresql":
        return moment + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return func.datetime(moment, literal("+") + cast(seconds, String) + literal(" seconds"))  # SQLite


def lease_seconds(timeout_seconds, batch, margin):
    """Return how long a claim's lease lasts: the endpoint's timeout once per delivery of the batch (a batch to
    one endpoint is sent in turn) plus the margin; numbers or SQL expressions alike."""
    return timeout_seconds * batch + margin


def claim_values(dialect, sending=None):
    """What a claim writes: sending, a lease token, no held reason, and a lease long enough for its batch.

    The lease is lease_seconds() of the endpoint's timeout, the batch's size (bind parameter "batch") and
    WEBHOOK_LEASE_MARGIN_SECONDS ("margin"), from "now". With sending (SQL true for the rows to send at once),
    the other rows are only reserved: they stay pending, held by the token until the lease runs out, and
    fair.start_send() moves each to sending when its turn comes (so sending is what is in flight, nothing else).
    """
    timeout = (select(endpoints.c.timeout_seconds).where(endpoints.c.id == deliveries.c.endpoint_id)
               .correlate(deliveries).scalar_subquery())
    seconds = lease_seconds(timeout, bindparam("batch"), bindparam("margin"))
    lease = seconds_after(dialect, bindparam("now", type_=UTCDateTime), seconds)
    values = dict(status=DeliveryStatus.SENDING, lease_token=bindparam("token"), held_reason=None,
                  lease_expires_at=lease)
    if sending is not None:
        values["status"] = case((sending, values["status"].value), else_=DeliveryStatus.PENDING.value)
    return values


def lease_margin():
    """Seconds a lease lasts beyond the send it covers (WEBHOOK_LEASE_MARGIN_SECONDS)."""
    return current_app.config["WEBHOOK_LEASE_MARGIN_SECONDS"]


def lease_params(now, batch=1):
    """The bind parameters of claim_values' lease: from now, for a batch sent in turn (1: its own send)."""
    return {"now": now, "batch": batch, "margin": lease_margin()}


def claim_params(ids, token, now):
    """Return the bind parameters of a claim of ids: due by now, with this token, leased for a batch of them."""
    return {"ids": ids, **scheduling.due_params(now), "token": token, **lease_params(now, len(ids))}


def _postgres_claim_statement(values):
    """UPDATE ... FROM endpoints, messages ... RETURNING the claim columns, for every ready ungated id.

    PostgreSQL can return the columns of joined tables from an UPDATE, so the claim reads everything an attempt
    needs in the same round trip (SQLite claims, then reads). The columns, the readiness conditions and the gates
    are the ones above, so a new gate or column cannot be forgotten on one database."""
    d, e, m = deliveries, endpoints, messages
    return (update(d).where(d.c.id.in_(bindparam("ids", expanding=True)), e.c.id == d.c.endpoint_id,
                            m.c.id == d.c.message_id, pending_and_due(), in_service(), ungated())
            .values(**values).returning(*CLAIM_COLUMNS))


@functools.cache
def _claim_statement(dialect):
    """Claim every ready delivery among "ids" that no gate concerns (returning their ids, or on PostgreSQL
    their CLAIM_COLUMNS in the same round trip)."""
    if dialect == "postgresql":
        return _postgres_claim_statement(claim_values(dialect))
    endpoint_takes_it = exists(select(endpoints.c.id).where(
        endpoints.c.id == deliveries.c.endpoint_id, in_service(), ungated()))
    return (update(deliveries).where(deliveries.c.id.in_(bindparam("ids", expanding=True)), pending_and_due(),
                                     endpoint_takes_it)
            .values(**claim_values(dialect)).returning(deliveries.c.id))


@functools.cache
def _claim_gated_statement(dialect):
    """Claim the ready deliveries among "ids" whatever the gates say (their checks have passed)."""
    return (update(deliveries).where(deliveries.c.id.in_(bindparam("ids", expanding=True)), pending_and_due())
            .values(**claim_values(dialect)))


READ = (select(*CLAIM_COLUMNS).join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
         .join(messages, messages.c.id == deliveries.c.message_id)
         .where(deliveries.c.id.in_(bindparam("ids", expanding=True))))
_READ_READY = READ.where(pending_and_due(), in_service())


def _claim_ungated(ids, token, now):
    """Claim every ready delivery among ids that no gate concerns; return their CLAIM_COLUMNS rows. Commits."""
    params = claim_params(ids, token, now)
    if postgres.available():  # claims and reads in one autocommitted statement
        with postgres.autocommit() as connection:
            return connection.execute(_claim_statement("postgresql"), params).all()
    connection = db.session.connection()
    claimed = connection.execute(_claim_statement(connection.dialect.name), params).scalars().all()
    rows = connection.execute(READ, {"ids": claimed}).all() if claimed else []
    db.session.commit()
    return rows


def claim_gated(delivery_id, throttle=None):
    """Claim one ready delivery after its gates; return its Claim, a Deferred, or None if it is not ready."""
    session, now = db.session, utcnow()
    params = claim_params([delivery_id], new_token(), now)
    row = session.connection().execute(_READ_READY, params).first()
    if row is None:
        session.rollback()
        return None
    lease = now + timedelta(seconds=lease_seconds(row.timeout_seconds, params["batch"], params["margin"]))
    if (held := held_back(row, now, lease, throttle)) is not None:
        return held
    connection = session.connection()
    claimed = connection.execute(_claim_gated_statement(connection.dialect.name), params).rowcount
    session.commit()
    return claim_from(row, params["token"], now) if claimed == 1 else None


def claim_deliveries(delivery_ids, throttle=None):
    """Claim every ready delivery among delivery_ids; return ([Claim], [Deferred]).

    Safe to run twice or concurrently: a delivery is claimed once (compare-and-set), and what is not
    ready (handled already, not due, endpoint not in service, taken) is left alone.
    """
    ids = list(dict.fromkeys(delivery_ids))
    token, now = new_token(), utcnow()
    claims = [claim_from(row, token, now) for row in _claim_ungated(ids, token, now)]
    taken = {claim.delivery_id for claim in claims}
    deferred = []
    for delivery_id in ids:
        if delivery_id in taken:
            continue
        result = claim_gated(delivery_id, throttle)
        if isinstance(result, Claim):
            claims.append(result)
        elif result is not None:
            deferred.append(result)
    return claims, deferred


def claim_expired(now, limit):
    """Take up to limit sending deliveries whose lease has expired (their worker died): a new lease, committed, so
    concurrent sweepers take each once; return their unsigned Claims, each saying whether it may have been sent.

    A slot sends its batch in turn, oldest due first, and records each attempt as its send ends: of the deliveries
    its lease token still holds, only the first may have been sent (or be in flight); the rest never were.
    """
    token, taken = take_expired(Delivery, DeliveryStatus.SENDING, now, Delivery.lease_token, Delivery.endpoint_id,
                                Delivery.next_attempt_at, limit=limit)
    rows = db.session.connection().execute(READ, {"ids": [row.id for row in taken]}).all() if taken else []
    db.session.commit()
    first = {}
    for row in sorted(taken, key=lambda row: (row.next_attempt_at, row.id)):
        first.setdefault((row.lease_token, row.endpoint_id), row.id)
    maybe_sent = set(first.values())
    return [dataclasses.replace(claim_from(row, token, now, sign=False), maybe_sent=row.id in maybe_sent)
            for row in rows]


def release(claims, delay=0.0, reason=None):
    """Give claimed deliveries back unattempted, to be tried again in delay seconds (held for reason, if given),
    and wake them then; commits. Returns a Deferred for each."""
    if not claims:
        return []
    now = utcnow()
    for claim in claims:
        db.session.execute(update(Delivery).where(  # sending, or only reserved (see claim_values)
            Delivery.id == claim.delivery_id, Delivery.status.in_((DeliveryStatus.SENDING, DeliveryStatus.PENDING)),
            Delivery.lease_token == claim.lease_token,
        ).values(status=DeliveryStatus.PENDING, lease_token=None, lease_expires_at=None, held_reason=reason,
                 next_attempt_at=now + timedelta(seconds=delay)).execution_options(synchronize_session=False))
        enqueue_after_commit(db.session, claim.delivery_id, delay)
    db.session.commit()
    return [Deferred(delay, reason or "given back unattempted") for _ in claims]


def claim_from(row, token, now, *, sign=True):
    """Build the Claim for a CLAIM_COLUMNS row: the body as sent, signed (sign=False: unsigned, for the record).
    A body or signature that cannot be made is the attempt's config error (formatting.signed_request)."""
    body, formatted, headers, config_error = (formatting.signed_request(row, now) if sign
                                              else (row.payload.encode(), None, {}, None))
    healthy = (row.consecutive_failures == 0 and row.alerted is None and row.last_success_at is not None
               and now - row.last_success_at < HEALTH_WRITE_INTERVAL)
    return Claim(
        delivery_id=row.id, lease_token=token, number=row.attempt_count + 1,
        trigger=row.next_trigger or AttemptTrigger.SCHEDULED, triggered_by=row.next_triggered_by,
        scheduled_attempt_count=row.scheduled_attempt_count, resume_at=row.resume_at,
        endpoint_id=row.endpoint_id, endpoint_alerted=row.alerted is not None, endpoint_healthy=healthy,
        url=row.url, body=body, headers=headers, timeout_seconds=row.timeout_seconds,
        max_attempts=row.max_attempts, retry_schedule=row.retry_schedule,
        rate_limit_per_second=row.rate_limit_per_second, config_error=config_error, due_at=row.next_attempt_at,
        formatted=formatted, endpoint_operational=bool(row.operational), resent_from_id=row.resent_from_id,
        ordered=row.ordering_sequence is not None,
    )
