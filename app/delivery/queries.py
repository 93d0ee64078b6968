"""Read-side queries over deliveries: look-up, search, counts. Every figure shown comes from here."""

from sqlalchemy import func, or_, select

from app.delivery.errors import NotFound
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Message, MessageTag, utcnow


def get_delivery(delivery_id):
    """Return the delivery or raise NotFound."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery with id {delivery_id}")
    return delivery


def matching_handle(term):
    """Return a condition on Delivery matching a delivery id, message id, reference, idempotency key or tag.

    Each branch is an equality on an indexed column, so a search never scans the table.
    """
    messages = select(Message.id).where(
        or_(Message.id == term, Message.reference == term, Message.idempotency_key == term)
    )
    tagged = select(MessageTag.message_id).where(MessageTag.tag == term)
    return or_(Delivery.id == term, Delivery.message_id.in_(messages), Delivery.message_id.in_(tagged))


def list_deliveries(*, status=None, endpoint_id=None, q=None, page=1, per_page=20):
    """Return (deliveries newest first, has_more) for one page of a filtered search."""
    query = select(Delivery)
    if status is not None:
        query = query.where(Delivery.status == status)
    if endpoint_id:
        query = query.where(Delivery.endpoint_id == endpoint_id)
    if q:
        query = query.where(matching_handle(q))
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc())
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    return rows[:per_page], len(rows) > per_page


def status_counts():
    """Return {status value: count} for every delivery status, zeros included."""
    counts = dict(db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    return {status.value: counts.get(status, 0) for status in DeliveryStatus}


def oldest_overdue_seconds():
    """Return how long the most overdue pending delivery has waited past its time (0 if none)."""
    now = utcnow()
    oldest = db.session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at < now
        )
    )
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # min() over SQLite bypasses the column type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return round((now - oldest).total_seconds(), 3)
