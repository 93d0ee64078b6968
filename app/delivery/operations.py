"""What people and producers do to deliveries: retry and cancel."""

from dataclasses import dataclass, field

from sqlalchemy import select, update

from app.delivery.errors import IllegalTransition, NotFound
from app.delivery.outbox import enqueue_after_commit
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus, utcnow

#: Statuses a retry may start from.
RETRYABLE_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.PENDING)


@dataclass
class Outcome:
    """Which ids an operation changed and why it left the others alone."""

    changed: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # id -> reason


def _skip_reasons(ids, changed, rule):
    changed = set(changed)
    rest = [i for i in ids if i not in changed]
    statuses = dict(db.session.execute(select(Delivery.id, Delivery.status).where(Delivery.id.in_(rest))).all())
    return {i: f"is {statuses[i].value}; {rule}" if i in statuses else "no such delivery" for i in rest}


def retry_deliveries(ids, *, trigger=AttemptTrigger.MANUAL, actor=None, restart_schedule=False):
    """Ask for one attempt now at each failed or pending delivery; commit, then enqueue.

    The attempt is one-off: if it fails, a failed delivery stays failed and a pending one returns to
    its planned time. restart_schedule=True instead starts the automatic retry chain afresh.
    """
    ids = list(dict.fromkeys(ids))
    now = utcnow()
    one_off = {"next_trigger": trigger, "next_triggered_by": actor}
    if restart_schedule:
        one_off = {"next_trigger": None, "next_triggered_by": None, "scheduled_attempt_count": 0}
    changed = []
    # Pending first: the failed rows this turns pending must not be matched again as pending.
    for status, resume_at in ((DeliveryStatus.PENDING, Delivery.next_attempt_at), (DeliveryStatus.FAILED, None)):
        values = dict(status=DeliveryStatus.PENDING, next_attempt_at=now, enqueued_at=None, **one_off)
        if not restart_schedule:
            values["resume_at"] = resume_at
        changed += db.session.scalars(
            update(Delivery).where(Delivery.id.in_(ids), Delivery.status == status).values(**values)
            .returning(Delivery.id).execution_options(synchronize_session=False)
        ).all()
    skipped = _skip_reasons(ids, changed, "only failed or pending deliveries can be retried")
    for delivery_id in changed:
        enqueue_after_commit(db.session, delivery_id)
    db.session.commit()
    return Outcome(changed, skipped)


def cancel_deliveries(ids):
    """Cancel pending deliveries so no further attempt is made; commit."""
    ids = list(dict.fromkeys(ids))
    changed = db.session.scalars(
        update(Delivery).where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, next_attempt_at=None, next_trigger=None, resume_at=None)
        .returning(Delivery.id).execution_options(synchronize_session=False)
    ).all()
    skipped = _skip_reasons(ids, changed, "only pending deliveries can be cancelled")
    db.session.commit()
    return Outcome(list(changed), skipped)


def _one(outcome, delivery_id):
    if outcome.changed:
        return db.session.get(Delivery, delivery_id)
    reason = outcome.skipped[delivery_id]
    if reason == "no such delivery":
        raise NotFound(f"no delivery with id {delivery_id}")
    raise IllegalTransition(f"delivery {delivery_id} {reason}")


def retry_delivery(delivery_id, *, trigger=AttemptTrigger.MANUAL, actor=None, restart_schedule=False):
    """Retry one delivery; raise NotFound or IllegalTransition when it cannot be."""
    return _one(retry_deliveries([delivery_id], trigger=trigger, actor=actor, restart_schedule=restart_schedule),
                delivery_id)


def cancel_delivery(delivery_id):
    """Cancel one delivery; raise NotFound or IllegalTransition when it cannot be."""
    return _one(cancel_deliveries([delivery_id]), delivery_id)
