"""Data helpers returning committed rows (or plain snapshots safe to use outside an app context)."""

from sqlalchemy import select

from app.delivery.messages import send_message
from app.extensions import db
from app.models import Delivery, DeliveryAttempt


def send(app, event_type="order.created", payload=None, **options):
    """Create and commit a message; return (message id, [delivery ids])."""
    with app.app_context():
        message, _ = send_message(event_type, payload or {"order": 1}, **options)
        db.session.commit()
        return message.id, [d.id for d in message.deliveries]


def send_many(app, count, event_type="order.created"):
    """Create count messages in one transaction (no running worker sees any before all exist); return
    their delivery ids."""
    with app.app_context():
        messages = [send_message(event_type, {"n": n})[0] for n in range(count)]
        db.session.commit()
        return [d.id for m in messages for d in m.deliveries]


def load(app, delivery_id):
    """Return the delivery with its attempts loaded, detached so it can be read after the context ends."""
    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        delivery.attempts_list = db.session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.number)
        ).all()
        return delivery


def detached(app, model, row_id):
    """Return a row of model, detached so it can be read after the context ends."""
    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.expunge(row)
        return row


def load_endpoint(app, endpoint_id):
    """Return the endpoint row, detached so it can be read after the context ends."""
    from app.models import Endpoint

    return detached(app, Endpoint, endpoint_id)


def update(app, model, row_id, **values):
    """Set columns on a row and commit."""
    with app.app_context():
        row = db.session.get(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def insert_delivery(app, endpoint_id, status, created_at, *, last_attempt_at=None, response_status=None,
                    error_class=None, error=None, attempts=()):
    """Write a message and one delivery with exactly these columns, bypassing the pipeline, for read-side
    tests that need known times. attempts: (started_at, duration_ms, error_class or None) each.
    Return the delivery id."""
    from app.models import AttemptTrigger, DeliveryStatus, ErrorClass, Message

    with app.app_context():
        message = Message(event_type="order.created", payload="{}", created_at=created_at)
        delivery = Delivery(message=message, endpoint_id=endpoint_id, event_type="order.created",
                            status=DeliveryStatus(status), created_at=created_at, attempt_count=len(attempts),
                            last_attempt_at=last_attempt_at, last_response_status=response_status,
                            last_error_class=ErrorClass(error_class) if error_class else None, last_error=error)
        db.session.add(delivery)
        db.session.flush()
        for number, (started_at, duration_ms, attempt_error) in enumerate(attempts, start=1):
            db.session.add(DeliveryAttempt(
                delivery_id=delivery.id, endpoint_id=endpoint_id, number=number, trigger=AttemptTrigger.SCHEDULED,
                started_at=started_at, duration_ms=duration_ms, request_url="http://127.0.0.1/", request_headers={},
                error_class=ErrorClass(attempt_error) if attempt_error else None))
        db.session.commit()
        return delivery.id


def queued_messages(broker, queue_name="webhooks"):
    """Return the delivery ids each wake-up message waiting in the broker carries (ready and delayed): [[id, ...]]."""
    from dramatiq.brokers.stub import StubBroker
    from dramatiq.message import Message

    if isinstance(broker, StubBroker):
        encoded = [data for name in (queue_name, f"{queue_name}.DQ") if name in broker.queues
                   for data in list(broker.queues[name].queue)]
    else:  # Redis: every queued message's body is in the queue's hash
        encoded = [data for name in (queue_name, f"{queue_name}.DQ")
                   for data in broker.client.hvals(f"{broker.namespace}:{name}.msgs")]
    carried = [Message.decode(data).args[0] for data in encoded]
    return [ids if isinstance(ids, list) else [ids] for ids in carried]


def queued_delivery_ids(broker, queue_name="webhooks"):
    """Return every delivery id the broker's waiting wake-up messages carry, one entry per mention, sorted."""
    return sorted(i for ids in queued_messages(broker, queue_name) for i in ids)
