"""Ordered delivery per key: a delivery with an ordering key waits its turn at its endpoint.

Its turn has come when no earlier delivery of the same key to the same endpoint (a lower ordering_sequence,
app.delivery.sequences) is still unfinished: pending (retries and scheduled ones included), reserved, sending,
or, while the endpoint's ordering_failure is hold, failed for good and not resolved. Every claim (the fair claim,
the gated path, a claim by id) asks it through claim.pending_and_due(), so a claim never takes a delivery whose
turn has not come, and never two of one key: the second waits for the first, which the claim's own snapshot
still sees pending. A delivery without a key is always in turn.

Staff undo a hold by retrying the failed delivery (it becomes pending again: the key's head, sent first),
resolving it, or cancelling it.
"""

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, OrderingFailure

deliveries, endpoints = Delivery.__table__, Endpoint.__table__

#: Unfinished: a later delivery of the same key waits for these whatever the endpoint's policy.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def blocks(earlier):
    """SQL: the earlier delivery of a key holds up the later ones (see the module docstring)."""
    policy = endpoints.alias("ordering_policy")
    holds = exists(select(policy.c.id).where(policy.c.id == earlier.c.endpoint_id,
                                             policy.c.ordering_failure == OrderingFailure.HOLD))
    failed_held = and_(earlier.c.status == DeliveryStatus.FAILED, earlier.c.resolved_at.is_(None), holds)
    # The first condition is implied by the second; stated on its own, PostgreSQL reads both through the partial
    # index ix_deliveries_ordering (without it, it looked for failed ones among all the endpoint's failures).
    return and_(earlier.c.status.in_((*UNFINISHED, DeliveryStatus.FAILED)), or_(earlier.c.status.in_(UNFINISHED),
                                                                                  failed_held))


def in_turn(table=deliveries):
    """SQL: the delivery (a row of table, deliveries or an alias of it) has no key, or its turn has come."""
    earlier = deliveries.alias("earlier_in_key")
    waiting = exists(select(earlier.c.id).where(
        earlier.c.endpoint_id == table.c.endpoint_id, earlier.c.ordering_key == table.c.ordering_key,
        earlier.c.ordering_sequence < table.c.ordering_sequence, blocks(earlier)))
    return or_(table.c.ordering_key.is_(None), ~waiting)


#: The request header carrying an ordered delivery's place in its key, so a receiver can check the order.
SEQUENCE_HEADER = "webhook-sequence"


def sequence_header(sequence):
    """The headers telling the receiver a delivery's place in its ordering key (none without a key)."""
    return {} if sequence is None else {SEQUENCE_HEADER: str(sequence)}


def waiting_for(rows):
    """{delivery id: the earliest delivery of the same ordering key at the same endpoint that holds it up} for the
    pending keyed deliveries among rows (what the console's "waiting for #N" names), in two statements however
    many rows a page shows."""
    keyed = [row.id for row in rows if row.ordering_key is not None and row.status is DeliveryStatus.PENDING]
    if not keyed:
        return {}
    waiting, earlier = deliveries.alias("waiting"), deliveries.alias("earlier_in_key")
    first = (select(earlier.c.id).where(earlier.c.endpoint_id == waiting.c.endpoint_id,
                                        earlier.c.ordering_key == waiting.c.ordering_key,
                                        earlier.c.ordering_sequence < waiting.c.ordering_sequence, blocks(earlier))
             .order_by(earlier.c.ordering_sequence).limit(1).correlate(waiting).scalar_subquery())
    ahead = dict(db.session.execute(select(waiting.c.id, first).where(waiting.c.id.in_(keyed))).all())
    ids = {found for found in ahead.values() if found}
    loaded = {row.id: row for row in db.session.scalars(
        select(Delivery).options(joinedload(Delivery.message)).where(Delivery.id.in_(ids)))} if ids else {}
    return {delivery_id: loaded[found] for delivery_id, found in ahead.items() if found}
