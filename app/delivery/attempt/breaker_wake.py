"""Wake what the circuit breaker held as soon as its probe succeeds, instead of at each delivery's own hold time.

A delivery the breaker holds waits until the breaker's cool-off ends plus jitter (gates.hold), and one that
came while the probe was in flight waits out the probe's lease: after a success they would arrive tens of
seconds late, in a trickle. The success that closes the breaker makes them due now and wakes them through the
outbox, in the transaction that records it (a rollback wakes nothing; a lost wake-up is the sweep's).
"""

from sqlalchemy import select, update

from app.extensions import db
from app.models import Delivery, DeliveryStatus
from app.outbox import enqueue_after_commit

#: The held reasons the breaker writes (app.delivery.attempt.gates: _breaker).
BREAKER_HOLDS = ("breaker open", "waiting for the breaker's probe")
#: At most this many are woken by one success; any others wake at their own hold time, within the cool-off.
WAKE_LIMIT = 1000


def wake_held(endpoint_id, now):
    """Make the endpoint's breaker-held deliveries due now and wake them after commit; return their ids."""
    held = (Delivery.endpoint_id == endpoint_id, Delivery.status == DeliveryStatus.PENDING,
            Delivery.held_reason.in_(BREAKER_HOLDS))
    ids = db.session.scalars(update(Delivery).where(
        Delivery.id.in_(select(Delivery.id).where(*held).limit(WAKE_LIMIT)), *held,
    ).values(next_attempt_at=now, held_reason=None).returning(Delivery.id)
        .execution_options(synchronize_session=False)).all()
    for delivery_id in ids:
        enqueue_after_commit(db.session, delivery_id)
    return ids
