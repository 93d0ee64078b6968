"""The fair claim: what a woken worker sends next, decided in the database, not by the order of broker messages.

One statement picks the endpoint whose oldest due delivery is the oldest among the endpoints that are in
service, are not held by the breaker, and hold fewer claims in flight than their share (max_in_flight, else
WEBHOOK_MAX_IN_FLIGHT; while its attempts fail, at most WEBHOOK_FAILING_MAX_IN_FLIGHT); it claims an equal
part of that endpoint's due deliveries per free slot (at least 1, at most a batch), oldest first. The first is
sent at once (sending); the others wait reserved for the slot (pending, held by its lease token, which no other
claim takes until the lease runs out) and are sent in turn, each becoming sending when its turn comes
(start_send). So:

- a slow endpoint holds at most its share of worker slots, however large its backlog; every other slot claims
  the other endpoints' deliveries (one endpoint's backlog delays another's due delivery by at most a claim);
- a trickle and a burst take the same path: one claim per batch of due deliveries, however many broker
  messages woke the workers;
- two claims at the same moment never take the same delivery (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
  serialises every write). They may both pick an endpoint one slot short of its share, so a share can be
  exceeded by the claims racing at that moment, never for longer: the next claim counts them all. (Locking the
  endpoint's row instead would make a claim skip an endpoint whose health is being written.)

A claim in flight is one lease token held by the endpoint's sending or reserved deliveries: the slot that
holds it sends them one after another. An endpoint the breaker holds (open, or half-open for its probe) is left
to the gated path (claim.claim_gated), which a wake-up naming the delivery takes; so is a test send to an
endpoint not in service.
"""

import dataclasses
import functools

from flask import current_app
from sqlalchemy import String, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from app.delivery import scheduling
from app.delivery.attempt import claim, postgres
from app.delivery.attempt.claim import deliveries, endpoints, messages, pending_and_due
from app.delivery.attempt.gates import FAIR_CLAIM_GATES
from app.extensions import db
from app.models import DeliveryStatus, EndpointState, utcnow
from app.work.leases import new_token

#: A claim counts an endpoint's due deliveries up to this many batches, to size its own batch (_batch_size).
SCAN_BATCHES = 16


def in_flight(endpoint_table=endpoints):
    """SQL: how many claims of the endpoint are in flight: distinct lease tokens among its deliveries being sent or
    reserved for a slot (a reservation whose lease ran out no longer counts; bind parameter "now")."""
    held = deliveries.alias("in_flight")
    return (select(func.count(held.c.lease_token.distinct()))
            .where(held.c.endpoint_id == endpoint_table.c.id, held.c.lease_token.is_not(None),
                   or_(held.c.status == DeliveryStatus.SENDING,
                       and_(held.c.status == DeliveryStatus.PENDING, held.c.lease_expires_at >= bindparam("now"))))
            .correlate(endpoint_table).scalar_subquery())


def share(endpoint_table=endpoints):
    """SQL: the endpoint's share of worker slots: its max_in_flight or WEBHOOK_MAX_IN_FLIGHT (bind parameter
    "share"), and no more than WEBHOOK_FAILING_MAX_IN_FLIGHT ("failing_share") while its attempts are failing."""
    own = func.coalesce(endpoint_table.c.max_in_flight, bindparam("share"))
    failing = and_(endpoint_table.c.breaker_failures > 0, own > bindparam("failing_share"))
    return case((failing, bindparam("failing_share")), else_=own)


def _oldest_due():
    due = deliveries.alias("due")
    return (select(func.min(due.c.next_attempt_at))
            .where(due.c.endpoint_id == endpoints.c.id, pending_and_due(due))
            .correlate(endpoints).scalar_subquery())


def _claimable():
    """SQL: (id, free slots) of the endpoints a claim may take from (see module docstring)."""
    due = deliveries.alias("has_due")
    # What the claim may take (pending_and_due): an endpoint whose due deliveries are all reserved, or wait their
    # turn in their ordering key, is not picked (the claim would take nothing, and the slot stop draining).
    # OFFSET 0 keeps it a probe of each endpoint's due index: PostgreSQL would otherwise make it a join, and, its
    # statistics behind a backlog that just arrived, pick a plan that hashes every due delivery on each claim.
    has_due = exists(select(due.c.id).where(due.c.endpoint_id == endpoints.c.id, pending_and_due(due)).offset(0))
    return (select(endpoints.c.id, (share() - in_flight()).label("free"))
            .where(endpoints.c.deleted_at.is_(None), endpoints.c.state == EndpointState.ENABLED,
                   *(gate.clear for gate in FAIR_CLAIM_GATES), has_due, in_flight() < share()))


def _pick():
    """SQL: the endpoint to claim from: the one whose oldest due delivery is the oldest; with how many endpoints
    may be claimed from, counted up to 2 (2: another slot would find work too)."""
    candidates = select(func.count().label("n")).select_from(_claimable().limit(2).subquery()).cte("candidates")
    return (_claimable().add_columns(select(candidates.c.n).scalar_subquery().label("candidates"))
            .order_by(_oldest_due()).limit(1).cte("pick").prefix_with("MATERIALIZED"))


def _batch_size(pick, due):
    """SQL: how many due deliveries the claim takes: an equal part of what is due for each free slot of the
    endpoint, at least 1 and at most "limit" (so a backlog is spread over the endpoint's share of slots at once)."""
    free, limit = select(pick.c.free).scalar_subquery(), bindparam("limit")
    size = case((due >= free * limit, limit), (due <= free, 1), else_=due // free)
    return func.coalesce(size, 0)  # no endpoint picked: nothing to take (SQLite refuses a NULL limit)


@functools.cache
def _statement(dialect, limit):
    """Claim up to limit ("limit") due deliveries of the picked endpoint; return their CLAIM_COLUMNS (PostgreSQL) or
    ids."""
    d, pick = deliveries, _pick()
    endpoint = select(pick.c.id).scalar_subquery()
    # Counted whatever their turn in their ordering key: only a size, and a key's waiting deliveries would make
    # the count look at every one of them (each claim's cost growing with a keyed backlog).
    counted = (select(d.c.id).where(d.c.endpoint_id == endpoint, pending_and_due(in_turn=False))
               .limit(bindparam("scan")).cte("counted"))
    due = select(func.count()).select_from(counted).scalar_subquery()
    locked = (select(d.c.id, d.c.next_attempt_at).where(d.c.endpoint_id == endpoint, pending_and_due())
              .order_by(d.c.next_attempt_at, d.c.id).limit(_batch_size(pick, due))
              .with_for_update(of=d, skip_locked=True).subquery("locked"))
    # Capped again by limit written into the statement: PostgreSQL cannot tell how many rows a LIMIT of an expression
    # gives (it guesses a tenth of what is due), so once its statistics had seen a backlog it found the chosen rows
    # for the UPDATE by hashing the whole table (3 ms of a 4 ms claim against 10,000 due deliveries, and more with
    # every row the table keeps).
    chosen = (select(locked).limit(limit)
              .cte("chosen").prefix_with("MATERIALIZED"))  # run once: a subquery with LIMIT and SKIP LOCKED
    # may be run again for each row the UPDATE looks at, and take a new unlocked row each time.
    first = select(chosen.c.id).order_by(chosen.c.next_attempt_at, chosen.c.id).limit(1).scalar_subquery()
    # The first is sent at once; the rest are reserved for this slot until their turn (claim.claim_values).
    # Each chosen row is locked and was checked to be pending and due as it was locked (FOR UPDATE checks the row's
    # latest version again): the UPDATE finds them by id alone, whatever PostgreSQL's statistics say of the backlog.
    taken = update(d).where(d.c.id == chosen.c.id).values(**claim.claim_values(dialect, sending=d.c.id == first))
    # What claim_next needs to tell whether another slot would find something to claim (_more).
    more = (due.label("due_count"), select(pick.c.free).scalar_subquery().label("free_slots"),
            select(pick.c.candidates).scalar_subquery().label("candidates"))
    if dialect == "postgresql":  # PostgreSQL returns the joined columns from the UPDATE itself
        return (taken.where(endpoints.c.id == d.c.endpoint_id, messages.c.id == d.c.message_id, no_disk_wait())
                .returning(*claim.CLAIM_COLUMNS, *more))
    return taken.returning(d.c.id, *more)


def no_disk_wait():
    """PostgreSQL, SQL true: the statement's own transaction commits without waiting for its WAL to reach the disk
    (synchronous_commit off for that transaction alone: SET LOCAL, for an autocommitted statement).

    For the fair claim, as for start_send: only a crash of the database server could lose such a commit, which leaves
    the claimed deliveries pending as they were, to be claimed and sent again (at least once, as after any lost
    worker); the record of an attempt, which waits for the disk, makes its claim durable with itself (the WAL is
    written in order). A trickle then waits for the disk once per delivery (its record), not twice."""
    return select(func.set_config("synchronous_commit", "off", True)).scalar_subquery() == "off"


def claim_next(limit):
    """Claim the next batch (up to limit) of one endpoint's due deliveries, fairly; return (their Claims in the order
    they are to be sent, oldest due first; whether another slot would find something to claim too). Commits. No
    claims when nothing is due that may be claimed."""
    now, token = utcnow(), new_token()
    params = {**scheduling.due_params(now), "token": token, "limit": limit, "scan": limit * SCAN_BATCHES,
              "share": current_app.config["WEBHOOK_MAX_IN_FLIGHT"],
              "failing_share": current_app.config["WEBHOOK_FAILING_MAX_IN_FLIGHT"], **claim.lease_params(now)}
    if postgres.available():
        postgres.release_reads()
        rows = taken = postgres.rows(_statement("postgresql", limit), params)
    else:
        connection = db.session.connection()
        taken = connection.execute(_statement(connection.dialect.name, limit), params).all()
        rows = connection.execute(claim.READ, {"ids": [row.id for row in taken]}).all() if taken else []
        db.session.commit()
    claims = [dataclasses.replace(claim.claim_from(row, token, now), reserved=True) for row in rows]
    # In the order the slot sends them (the sweep assumes it).
    return sorted(claims, key=lambda claimed: (claimed.due_at, claimed.delivery_id)), _more(taken)


def _more(taken):
    """Whether another slot would find something to claim after this claim took rows taken: more of the same
    endpoint is due and its share has a slot left, or another endpoint may be claimed from. (A slot woken for
    nothing costs a broker message and a claim: a backlog at its share wakes no one.)"""
    if not taken:
        return False
    first = taken[0]
    return (first.due_count > len(taken) and first.free_slots > 1) or first.candidates > 1


def nothing_more():
    """SQL: whether a slot whose last claim was just sent to endpoint "idle_endpoint" may stop draining without
    claiming again: no endpoint may be claimed from (_claimable), and that endpoint holds fewer claims in flight than
    its share, the slot's own still counted (bind parameters: a claim's, and "idle_endpoint").

    Why that is enough: whatever is committed after the statement reads the database has a wake-up of its own
    (NOTIFY, a broker message, the wake timer for what falls due later), whose claim takes it unless its endpoint is
    at its share. If it is, each slot holding that share claimed before its own last record read the database; the
    one whose record read it last saw them all in flight, its own included, so it found no headroom and claims
    again, unless it read the database after the commit and saw what was committed. Not for a delivery with an
    ordering key: its attempt may let the next of its key go, which this statement cannot see (the pipeline asks
    only for others)."""
    mine = endpoints.alias("mine")
    headroom = select(in_flight(mine) < share(mine)).where(mine.c.id == bindparam("idle_endpoint")).scalar_subquery()
    return and_(~exists(_claimable()), func.coalesce(headroom, False))


def nothing_more_params(endpoint_id, now):
    """The bind parameters of nothing_more for a slot that sent its last claim to endpoint_id, at now."""
    return {**scheduling.due_params(now), "now": now, "share": current_app.config["WEBHOOK_MAX_IN_FLIGHT"],
            "failing_share": current_app.config["WEBHOOK_FAILING_MAX_IN_FLIGHT"], "idle_endpoint": endpoint_id}


@functools.cache
def _gated_or_test_statement(dialect):
    """The ready deliveries among "ids" that only the gated path claims (PostgreSQL: ids as one array parameter,
    so that the statement runs straight, postgres.rows)."""
    if dialect == "postgresql":
        # Found by their primary key first (OFFSET 0: planned apart), then checked: with its conditions beside the
        # ids, PostgreSQL, its statistics behind a backlog, read the whole backlog's due index to find a few ids.
        named = (select(deliveries).where(deliveries.c.id == func.any(bindparam("ids", type_=ARRAY(String))))
                 .offset(0).subquery("named"))
    else:
        named = select(deliveries).where(deliveries.c.id.in_(bindparam("ids", expanding=True))).subquery("named")
    return (select(named.c.id).join(endpoints, endpoints.c.id == named.c.endpoint_id)
            .where(pending_and_due(named), claim.in_service(named),
                   or_(claim.is_test(named), ~and_(*(gate.clear for gate in FAIR_CLAIM_GATES)))))


def gated_or_test(delivery_ids):
    """Those of delivery_ids that are ready and only the gated path claims: a test send, or a delivery whose
    endpoint a gate the fair claim leaves out concerns (the breaker)."""
    if not delivery_ids:
        return []
    params = {"ids": list(delivery_ids), **scheduling.due_params(utcnow())}
    if postgres.available():
        postgres.release_reads()
        found = {row.id for row in postgres.rows(_gated_or_test_statement("postgresql"), params)}
    else:
        found = set(db.session.execute(_gated_or_test_statement(db.engine.dialect.name), params).scalars())
        db.session.rollback()
    return [delivery_id for delivery_id in delivery_ids if delivery_id in found]


@functools.cache
def start_send_statement(dialect):
    """Move "delivery", still reserved for lease "token", to sending, its lease from "now" covering its own send."""
    values = claim.claim_values(dialect)
    return (update(deliveries).where(deliveries.c.id == bindparam("delivery"),
                                     deliveries.c.status == DeliveryStatus.PENDING,
                                     deliveries.c.lease_token == bindparam("token"))
            .values(status=values["status"], lease_expires_at=values["lease_expires_at"]))


def start_params(claimed, now):
    """The bind parameters of start_send_statement for a claim."""
    return {"delivery": claimed.delivery_id, "token": claimed.lease_token, **claim.lease_params(now)}


def start_send(claimed, now):
    """Move a reserved delivery to sending, its lease from now covering its own send; False if it is no longer
    reserved for this claim (cancelled, or its reservation ran out and another slot took it). Commits.

    On PostgreSQL the commit does not wait for the disk: only a crash of the database server could lose it, which
    leaves the delivery reserved (pending) until its lease runs out and it is sent again (at least once, as after
    any lost worker); and the attempt's record, which waits for the disk, makes it durable with itself."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(no_disk_wait()))  # this transaction's commit, as the claim's
    started = connection.execute(start_send_statement(connection.dialect.name), start_params(claimed, now)).rowcount
    db.session.commit()
    return started == 1
