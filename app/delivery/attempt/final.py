"""Announce deliveries that ended with an attempt, in the transaction recording it: the operational events
delivery.succeeded and delivery.failed, and an endpoint's alert on every final failure (alert_on_failure).

Nothing is read unless someone listens: an operational endpoint wanting the event (a cached flag), or a final
failure, which is rare, for the alert. An operational endpoint's own deliveries announce no event (no loops).
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.delivery import operational
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, Message
from app.outbox import alert_after_commit

#: The statuses that end a delivery, with the operational event announcing each.
EVENTS = {DeliveryStatus.SUCCEEDED: "delivery.succeeded", DeliveryStatus.FAILED: "delivery.failed"}


def announce(ended, now):
    """Announce ended deliveries [(claim, outcome, status)] (status SUCCEEDED or FAILED, already written)."""
    if not ended:
        return
    events = [(EVENTS[status], claim, outcome) for claim, outcome, status in ended
              if not claim.endpoint_operational and operational.wants(EVENTS[status])]
    if events:
        facts = _facts([claim.delivery_id for _, claim, _ in events])
        operational.emit_many([(event_type, _data(facts[claim.delivery_id], outcome))
                               for event_type, claim, outcome in events])
    failed = {claim.endpoint_id: (claim, outcome) for claim, outcome, status in ended
              if status is DeliveryStatus.FAILED}
    for endpoint_id, (claim, outcome) in failed.items():
        _alert_final_failure(endpoint_id, claim, outcome, now)


def _facts(delivery_ids):
    rows = db.session.execute(
        select(Delivery.id, Delivery.message_id, Delivery.event_type, Delivery.status, Delivery.attempt_count,
               Message.reference, Endpoint.id.label("endpoint_id"), Endpoint.name, Endpoint.url)
        .join(Message, Message.id == Delivery.message_id).join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .where(Delivery.id.in_(delivery_ids))).all()
    return {row.id: row for row in rows}


def _data(row, outcome):
    """The data of a delivery event: the delivery, its message's reference, its endpoint and its last error."""
    return {
        "delivery": {"id": row.id, "message_id": row.message_id, "event_type": row.event_type,
                     "reference": row.reference, "status": row.status.value, "attempts": row.attempt_count,
                     "response_status": outcome.status,
                     "error_class": outcome.error_class.value if outcome.error_class else None,
                     "last_error": outcome.error},
        "endpoint": {"id": row.endpoint_id, "name": row.name, "url": row.url},
    }


def _alert_final_failure(endpoint_id, claim, outcome, now):
    """Alert staff about a final failure if the endpoint asks for it and its quiet period has passed."""
    quiet = timedelta(minutes=current_app.config["FINAL_FAILURE_ALERT_QUIET_MINUTES"])
    claimed = db.session.execute(  # compare-and-set: of two concurrent failures, one alerts
        update(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.alert_on_failure.is_(True),
                               or_(Endpoint.failure_alerted_at.is_(None), Endpoint.failure_alerted_at <= now - quiet))
        .values(failure_alerted_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed:
        error = outcome.error or (f"HTTP {outcome.status}" if outcome.status else "no answer")
        reference = db.session.scalar(select(Message.reference).join(Delivery, Delivery.message_id == Message.id)
                                      .where(Delivery.id == claim.delivery_id))
        about = f"delivery {claim.delivery_id}" + (f" ({reference})" if reference else "")
        alert_after_commit(db.session, "final_failure", endpoint_id, f"{about} failed for good: {error}")
