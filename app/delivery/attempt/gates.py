"""Gates: reasons to hold a ready delivery back without using up an attempt.

The circuit breaker and the in-flight cap of a failing endpoint (the rate limit holds deliveries back too,
but at the moment of sending: see pipeline.py). Each gate is defined once, here, as the SQL that says it
does not concern an endpoint beside the Python check that decides for one it does concern: claim.py claims
every ready delivery no gate concerns in one statement, and runs these checks for the others one by one.
A delivery held back is woken again later through the outbox; its row says why it waits (held_reason) and
until when (next_attempt_at).
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus, Endpoint, utcnow
from app.outbox import enqueue_after_commit

endpoints = Endpoint.__table__


@dataclass(frozen=True)
class Deferred:
    """The delivery was held back (reason) and will be woken again in delay_seconds."""

    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class Gate:
    """One reason to hold a ready delivery back: clear() is the SQL saying it does not concern the endpoint;
    check(row, now, lease, throttle) decides, for a delivery whose endpoint it does concern."""

    name: str
    clear: object
    check: object


def _breaker(row, now, lease, throttle):
    if row.breaker_open_until is None:
        return None
    if row.breaker_open_until > now:
        return hold(row.id, row.breaker_open_until, now, "breaker open")
    # Half-open: the breaker's cool-off is over; exactly one delivery becomes the probe, and the others
    # wait behind its lease.
    probe = db.session.execute(update(Endpoint).where(
        Endpoint.id == row.endpoint_id, Endpoint.breaker_open_until <= now,
    ).values(breaker_open_until=lease).execution_options(synchronize_session=False)).rowcount
    return None if probe else hold(row.id, lease, now, "waiting for the breaker's probe")


def _failing_in_flight(row, now, lease, throttle):
    if not row.breaker_failures or row.breaker_open_until is not None:  # the probe is the breaker's business
        return None
    if _in_flight(row.endpoint_id) >= current_app.config["WEBHOOK_FAILING_MAX_IN_FLIGHT"]:
        return later(row.id, 1.0, "failing endpoint busy")
    return None


def _in_flight(endpoint_id):
    # Lock the endpoint's row until this claim commits, so concurrent claims count one after another
    # (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them already). Only failing endpoints come here.
    db.session.execute(select(Endpoint.id).where(Endpoint.id == endpoint_id).with_for_update())
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == DeliveryStatus.SENDING, Delivery.endpoint_id == endpoint_id))


#: In the order they are checked. An endpoint's rate limit is not a gate here: it is taken just before each
#: request is sent (pipeline.py), so no time passes between counting a request and making it.
GATES = (
    Gate("circuit breaker", endpoints.c.breaker_open_until.is_(None), _breaker),
    Gate("in-flight cap of a failing endpoint", endpoints.c.breaker_failures == 0, _failing_in_flight),
)
#: The gates the fair claim (fair.py) leaves to the one-by-one path. The failing endpoint's cap is not among them:
#: there it is the endpoint's share of slots, made smaller, so its retries are claimed on time like any others.
FAIR_CLAIM_GATES = GATES[:1]


def held_back(row, now, lease, throttle=None):
    """Run the gates for a ready delivery's row (a test send passes every gate); return a Deferred or None."""
    if row.next_trigger is AttemptTrigger.TEST:
        return None
    for gate in GATES:
        if (held := gate.check(row, now, lease, throttle)) is not None:
            return held
    return None


def hold(delivery_id, until, now, reason):
    """Hold the delivery until then (plus a little jitter, so a held crowd does not stampede)."""
    return later(delivery_id, (until - now).total_seconds() + random.uniform(0, 2), reason, now)


def later(delivery_id, delay, reason, now=None):
    """Wake the delivery again in about delay seconds; its row says why it waits and until when. Commits."""
    delay = delay * random.uniform(1, 1.5)
    now = now or utcnow()
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=now + timedelta(seconds=delay), held_reason=reason)
                       .execution_options(synchronize_session=False))
    enqueue_after_commit(db.session, delivery_id, delay)
    db.session.commit()
    return Deferred(delay, reason)
