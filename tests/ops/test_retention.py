import json
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, DeliveryAttempt, DeliveryStatus, Message, MessageTag, utcnow
from tests.support.factories import send, update
from tests.support.receiver import Reply


def age(app, message_id, days):
    """Make a message, its deliveries and attempts look days old."""
    when = utcnow() - timedelta(days=days)
    with app.app_context():
        db.session.execute(Message.__table__.update().where(Message.id == message_id).values(created_at=when))
        ids = select(Delivery.id).where(Delivery.message_id == message_id)
        db.session.execute(Delivery.__table__.update().where(Delivery.message_id == message_id).values(created_at=when))
        db.session.execute(DeliveryAttempt.__table__.update().where(DeliveryAttempt.delivery_id.in_(ids))
                           .values(started_at=when))
        db.session.commit()


def delivered(app, broker, worker, **options):
    message_id, (delivery_id,) = send(app, payload={"order": "A-1", "email": "buyer@example.com"}, tags=["QR1"],
                                      **options)
    broker.join("webhooks")
    worker.join()
    return message_id, delivery_id


def test_retention_purges_old_payloads_and_bodies_but_keeps_rows_statuses_and_metadata(
        app, runner, make_endpoint, receiver, broker, worker):
    make_endpoint()
    receiver.default = Reply(200, b'{"received": "buyer@example.com"}')
    old_message, old_delivery = delivered(app, broker, worker)
    new_message, _ = delivered(app, broker, worker)
    age(app, old_message, days=8)

    result = runner.invoke(args=["retention", "run", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "outbound payloads: 1" in result.output
    assert "attempt response bodies and request headers: 1" in result.output
    with app.app_context():
        old = db.session.get(Message, old_message)
        assert old.payload == "null" and old.payload_purged_at is not None
        assert db.session.get(Message, new_message).payload_purged_at is None
        delivery = db.session.get(Delivery, old_delivery)
        assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.attempt_count == 1
        (attempt,) = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == old_delivery))
        assert attempt.response_body is None and attempt.request_headers == {} and attempt.purged_at is not None
        assert attempt.response_status == 200 and attempt.duration_ms >= 0  # the metadata stays
    again = runner.invoke(args=["retention", "run"])
    assert "outbound payloads: 0" in again.output  # nothing is purged twice
    assert "attempt response bodies and request headers: 0" in again.output


def test_a_message_still_waiting_to_be_sent_keeps_its_payload(app, runner, make_endpoint, receiver, broker, worker):
    make_endpoint()
    receiver.default = Reply(503)
    message_id, delivery_id = delivered(app, broker, worker)
    update(app, Delivery, delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=utcnow() + timedelta(hours=1))
    age(app, message_id, days=100)
    runner.invoke(args=["retention", "run"])
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message is not None and json.loads(message.payload) == {"order": "A-1", "email": "buyer@example.com"}


def test_rows_older_than_record_retention_are_deleted_with_their_attempts_and_tags(
        app, runner, make_endpoint, receiver, broker, worker):
    make_endpoint()
    ancient, ancient_delivery = delivered(app, broker, worker)
    recent, _ = delivered(app, broker, worker)
    age(app, ancient, days=91)
    result = runner.invoke(args=["retention", "run"])
    assert "old messages, deliveries and attempts: 1" in result.output
    with app.app_context():
        assert db.session.get(Message, ancient) is None and db.session.get(Delivery, ancient_delivery) is None
        assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)
                                 .where(DeliveryAttempt.delivery_id == ancient_delivery)) == 0
        assert db.session.scalar(select(func.count()).select_from(MessageTag)
                                 .where(MessageTag.message_id == ancient)) == 0
        assert db.session.get(Message, recent) is not None


def test_the_30_day_choice_keeps_payloads_longer(app, runner, make_endpoint, receiver, broker, worker):
    from app.audit import Actor
    from app.staff.settings import set_setting

    make_endpoint()
    message_id, _ = delivered(app, broker, worker)
    age(app, message_id, days=8)
    with app.app_context():
        set_setting("payload_retention_days", "30", actor=Actor("admin@example.com"))
    assert "outbound payloads: 0" in runner.invoke(args=["retention", "run"]).output
    age(app, message_id, days=31)
    assert "outbound payloads: 1" in runner.invoke(args=["retention", "run"]).output


def test_the_view_log_says_when_the_payload_was_purged(app, client, staff, runner, make_endpoint, receiver, broker,
                                                       worker):
    make_endpoint()
    message_id, delivery_id = delivered(app, broker, worker)
    age(app, message_id, days=8)
    runner.invoke(args=["retention", "run"])
    staff("viewer")
    page = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert "Payload purged on" in page and "buyer@example.com" not in page
    assert "Response body and request headers purged by retention" in page


def test_a_delivery_whose_payload_was_purged_cannot_be_retried(app, runner, make_endpoint, receiver, broker, worker):
    import pytest

    from app.audit import Actor
    from app.delivery.operations.deliveries import PURGED, retry_deliveries, retry_delivery
    from app.errors import IllegalTransition

    make_endpoint(max_attempts=1)
    receiver.default = Reply(500)
    message_id, delivery_id = delivered(app, broker, worker)
    age(app, message_id, days=8)
    runner.invoke(args=["retention", "run"])
    with app.app_context():
        outcome = retry_deliveries([delivery_id], actor=Actor("ops@example.com"))
        assert outcome.changed == [] and outcome.skipped == {delivery_id: PURGED}
        with pytest.raises(IllegalTransition, match="purged"):
            retry_delivery(delivery_id, actor=Actor("ops@example.com"))
        assert db.session.get(Delivery, delivery_id).status is DeliveryStatus.FAILED
