from datetime import datetime, timedelta, timezone

import pytest

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.messages import send_message
from app.delivery.operations.deliveries import cancel_deliveries, send_scheduled_now
from app.errors import IllegalTransition, InvalidInput
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, Message, utcnow
from tests.support.factories import load, queued_messages, send
from tests.support.waiting import wait_until

ADMIN = Actor("admin@example.com")


def count(app, model):
    with app.app_context():
        return db.session.query(model).count()


def test_a_scheduled_message_waits_held_as_scheduled_and_is_woken_then(app, make_endpoint, receiver, broker):
    make_endpoint()
    when = utcnow() + timedelta(hours=2)
    message_id, (delivery_id,) = send(app, deliver_at=when.isoformat())
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.held_reason == "scheduled"
    assert delivery.next_attempt_at == when and delivery.scheduled_for == when
    with app.app_context():
        assert db.session.get(Message, message_id).deliver_at == when
        assert attempt_delivery(delivery_id) is None  # not due: nothing is sent early
    assert receiver.requests == [] and load(app, delivery_id).attempt_count == 0
    # one wake-up, delayed until then (in the broker's delay queue)
    assert queued_messages(broker) == [[delivery_id]]


@pytest.mark.parametrize(("value", "error"), [
    ("2026-13-01T00:00:00Z", "ISO 8601"),
    ("2030-01-01T09:00:00", "time zone"),
    (datetime(2030, 1, 1, 9), "time zone"),
    (12, "time zone"),
    ("far", "ISO 8601"),
])
def test_a_deliver_at_that_is_not_a_moment_with_its_zone_is_refused(app, make_endpoint, value, error):
    make_endpoint()
    with app.app_context(), pytest.raises(InvalidInput, match=error) as refused:
        send_message("order.created", {"n": 1}, deliver_at=value)
    assert refused.value.field == "deliver_at" and count(app, Message) == 0


def test_deliver_at_more_than_30_days_ahead_or_in_the_past_is_refused(app, make_endpoint):
    make_endpoint()
    for when, error in ((utcnow() + timedelta(days=30, minutes=1), "30 days"),
                        (utcnow() - timedelta(minutes=6), "in the past")):
        with app.app_context(), pytest.raises(InvalidInput, match=error):
            send_message("order.created", {"n": 1}, deliver_at=when)
    assert count(app, Message) == 0 and count(app, Delivery) == 0


def test_deliver_at_a_moment_ago_or_in_another_zone_is_accepted(app, make_endpoint, broker):
    make_endpoint()
    _, (now_id,) = send(app, deliver_at=utcnow() - timedelta(seconds=30))  # clock skew: sent at once
    assert load(app, now_id).held_reason is None and queued_messages(broker) == [[now_id]]
    east = timezone(timedelta(hours=3))
    when = (utcnow() + timedelta(days=29)).astimezone(east)
    _, (later_id,) = send(app, deliver_at=when)
    stored = load(app, later_id).next_attempt_at
    assert stored == when and stored.utcoffset() == timedelta(0)


def test_the_same_idempotency_key_at_another_time_is_refused(app, make_endpoint):
    make_endpoint()
    when = utcnow() + timedelta(hours=1)
    send(app, idempotency_key="k", deliver_at=when)
    with app.app_context(), pytest.raises(IllegalTransition, match="deliver_at"):
        send_message("order.created", {"order": 1}, idempotency_key="k", deliver_at=when + timedelta(minutes=1))
    with app.app_context():
        again, created = send_message("order.created", {"order": 1}, idempotency_key="k", deliver_at=when)
        assert not created and again.deliver_at == when


def test_send_now_makes_a_scheduled_delivery_due_audited(app, make_endpoint, receiver, broker):
    make_endpoint()
    _, (scheduled,) = send(app, deliver_at=utcnow() + timedelta(days=3))
    _, (plain,) = send(app)
    with app.app_context():
        outcome = send_scheduled_now([scheduled, plain], actor=ADMIN)
        assert outcome.changed == [scheduled] and "scheduled time" in outcome.skipped[plain]
        (entry,) = db.session.query(AuditEntry).filter_by(action="deliveries.send_now").all()
        assert entry.actor == ADMIN.name and entry.target_ids == [scheduled]
        assert attempt_delivery(scheduled).response_status == 200
    delivery = load(app, scheduled)
    assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.attempts_list[0].trigger.value == "scheduled"


def test_a_scheduled_delivery_can_be_cancelled(app, make_endpoint):
    make_endpoint()
    _, (scheduled,) = send(app, deliver_at=utcnow() + timedelta(days=3))
    with app.app_context():
        assert cancel_deliveries([scheduled], actor=ADMIN).changed == [scheduled]
    delivery = load(app, scheduled)
    assert delivery.status is DeliveryStatus.CANCELLED and delivery.scheduled_for is None


def test_scheduled_deliveries_arrive_at_their_time_not_before(app, make_endpoint, receiver, broker, worker):
    make_endpoint()
    when = utcnow() + timedelta(seconds=2)
    ids = [send(app, deliver_at=when)[1][0] for _ in range(5)]
    receiver.wait_for(5, timeout=15)
    arrived = [r.wall - when.timestamp() for r in receiver.requests]
    assert min(arrived) >= 0, arrived  # none early (how soon after is bench/scheduled.py's figure)
    assert wait_until(lambda: all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in ids))


def test_a_claim_takes_a_retry_a_moment_early_but_never_a_scheduled_delivery(app, make_endpoint, monkeypatch):
    from app.delivery.attempt import fair

    # Given two deliveries due at the same moment: one scheduled, one a retry (no held reason)
    make_endpoint()
    when = utcnow() + timedelta(hours=1)
    _, (scheduled,) = send(app, deliver_at=when)
    _, (retry,) = send(app, deliver_at=when)
    with app.app_context():
        db.session.query(Delivery).filter_by(id=retry).update({"held_reason": None})
        db.session.commit()

    # When a slot claims half a second before that moment (within the tolerance for clock skew)
    monkeypatch.setattr(fair, "utcnow", lambda: when - timedelta(seconds=0.5))
    with app.app_context():
        claims, _ = fair.claim_next(limit=20)

    # Then it takes the retry, and leaves the scheduled delivery for its time
    assert [claim.delivery_id for claim in claims] == [retry]
    assert load(app, scheduled).status is DeliveryStatus.PENDING
