"""The fair claim: what a woken worker sends next, decided in the database, not by the order of broker messages.

One statement picks the endpoint whose oldest due delivery is the oldest among the endpoints that are in
service, are not held by the breaker, and hold fewer claims in flight than their share (max_in_flight, else
WEBHOOK_MAX_IN_FLIGHT; while its attempts fail, at most WEBHOOK_FAILING_MAX_IN_FLIGHT); it claims that
endpoint's due deliveries, oldest first, up to a batch, and they are sent in turn by the one worker slot that
claimed them. So:

- a slow endpoint holds at most its share of worker slots, however large its backlog; every other slot claims
  the other endpoints' deliveries (one endpoint's backlog delays another's due delivery by at most a claim);
- a trickle and a burst take the same path: one claim per batch of due deliveries, however many broker
  messages woke the workers;
- two claims at the same moment never take the same delivery (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
  serialises every write). They may both pick an endpoint one slot short of its share, so a share can be
  exceeded by the claims racing at that moment, never for longer: the next claim counts them all. (Locking the
  endpoint's row instead would make a claim skip an endpoint whose health is being written.)

A claim in flight is one lease token among the endpoint's sending deliveries: the slot that holds it sends
them one after another. An endpoint the breaker holds (open, or half-open for its probe) is left to the gated
path (claim.claim_gated), which a wake-up naming the delivery takes; so is a test send to an endpoint not in service.
"""

import functools
import secrets as _random

from flask import current_app
from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update

from app.delivery.attempt import claim, postgres
from app.delivery.attempt.claim import deliveries, endpoints, messages, pending_and_due
from app.delivery.attempt.gates import FAIR_CLAIM_GATES
from app.extensions import db
from app.models import DeliveryStatus, EndpointState, utcnow


def in_flight(endpoint_table=endpoints):
    """SQL: how many claims of the endpoint are in flight (distinct lease tokens among its sending deliveries)."""
    sending = deliveries.alias("in_flight")
    return (select(func.count(sending.c.lease_token.distinct()))
            .where(sending.c.endpoint_id == endpoint_table.c.id, sending.c.status == DeliveryStatus.SENDING)
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
            .where(due.c.endpoint_id == endpoints.c.id, due.c.status == DeliveryStatus.PENDING,
                   due.c.next_attempt_at <= bindparam("due"))
            .correlate(endpoints).scalar_subquery())


def _pick():
    """SQL: the endpoint to claim from (see module docstring)."""
    due = deliveries.alias("has_due")
    has_due = exists(select(due.c.id).where(due.c.endpoint_id == endpoints.c.id,
                                             due.c.status == DeliveryStatus.PENDING,
                                             due.c.next_attempt_at <= bindparam("due")))
    return (select(endpoints.c.id)
            .where(endpoints.c.deleted_at.is_(None), endpoints.c.state == EndpointState.ENABLED,
                   *(gate.clear for gate in FAIR_CLAIM_GATES), has_due, in_flight() < share())
            .order_by(_oldest_due()).limit(1))


@functools.cache
def _statement(dialect):
    """Claim up to "limit" due deliveries of the picked endpoint; return their CLAIM_COLUMNS (PostgreSQL) or ids."""
    d = deliveries
    chosen = (select(d.c.id).where(d.c.endpoint_id == _pick().scalar_subquery(), pending_and_due())
              .order_by(d.c.next_attempt_at, d.c.id).limit(bindparam("limit"))
              .with_for_update(of=d, skip_locked=True)
              .cte("chosen").prefix_with("MATERIALIZED"))  # run once: a subquery with LIMIT and SKIP LOCKED
    # may be run again for each row the UPDATE looks at, and take a new unlocked row each time.
    taken = (update(d).where(d.c.id == chosen.c.id, pending_and_due()).values(**claim.claim_values(dialect)))
    if dialect == "postgresql":  # PostgreSQL returns the joined columns from the UPDATE itself
        return (taken.where(endpoints.c.id == d.c.endpoint_id, messages.c.id == d.c.message_id)
                .returning(*claim.CLAIM_COLUMNS))
    return taken.returning(d.c.id)


def claim_next(limit):
    """Claim the next batch (up to limit) of one endpoint's due deliveries, fairly; return their Claims, in the
    order they are to be sent (oldest due first). Commits. Empty when nothing is due that may be claimed."""
    now, token = utcnow(), _random.token_hex(8)
    params = {"due": now + claim.EARLY_TOLERANCE, "token": token, "limit": limit,
              "share": current_app.config["WEBHOOK_MAX_IN_FLIGHT"],
              "failing_share": current_app.config["WEBHOOK_FAILING_MAX_IN_FLIGHT"], **claim.lease_params(now)}
    if postgres.available():
        with postgres.autocommit() as connection:
            rows = connection.execute(_statement("postgresql"), params).all()
    else:
        connection = db.session.connection()
        ids = connection.execute(_statement(connection.dialect.name), params).scalars().all()
        rows = connection.execute(claim.READ, {"ids": ids}).all() if ids else []
        db.session.commit()
    claims = [claim.claim_from(row, token, now) for row in rows]
    return sorted(claims, key=lambda claimed: (claimed.due_at, claimed.delivery_id))  # the order the sweep assumes


_GATED_OR_TEST = (select(deliveries.c.id).join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                  .where(deliveries.c.id.in_(bindparam("ids", expanding=True)), pending_and_due(), claim.in_service(),
                         or_(claim.is_test(), ~and_(*(gate.clear for gate in FAIR_CLAIM_GATES)))))


def gated_or_test(delivery_ids):
    """Those of delivery_ids that are ready and only the gated path claims: a test send, or a delivery whose
    endpoint a gate the fair claim leaves out concerns (the breaker)."""
    if not delivery_ids:
        return []
    found = set(db.session.execute(_GATED_OR_TEST, {"ids": list(delivery_ids),
                                                    "due": utcnow() + claim.EARLY_TOLERANCE}).scalars())
    db.session.rollback()
    return [delivery_id for delivery_id in delivery_ids if delivery_id in found]


def extend_leases(claims, now=None):
    """Renew the lease of claims not yet sent (a slow endpoint's batch): each lasts its own send from now. Commits."""
    if not claims:
        return
    now = now or utcnow()
    values = claim.claim_values(db.session.connection().dialect.name)
    db.session.execute(
        update(deliveries).where(
            deliveries.c.id.in_([claim.delivery_id for claim in claims]),
            deliveries.c.status == DeliveryStatus.SENDING,
            deliveries.c.lease_token == claims[0].lease_token,
        ).values(lease_expires_at=values["lease_expires_at"]),
        claim.lease_params(now))
    db.session.commit()

