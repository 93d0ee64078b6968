from datetime import timedelta

import pytest

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.operations.deliveries import cancel_deliveries, cancel_delivery, retry_deliveries, retry_delivery
from app.errors import IllegalTransition, NotFound
from app.models import AttemptTrigger, Delivery, DeliveryStatus, utcnow
from tests.support.factories import load, send, update
from tests.support.receiver import Reply

OPS = Actor("ops@example.com", "203.0.113.9")


def fail_once(app, receiver, status=400):
    receiver.reply(Reply(status))
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    return delivery_id


def test_manual_retry_of_a_failed_delivery_is_one_attempt(app, make_endpoint, receiver):
    make_endpoint()
    delivery_id = fail_once(app, receiver)
    receiver.reply(Reply(500))
    with app.app_context():
        outcome = retry_deliveries([delivery_id], actor=OPS)
        assert outcome.changed == [delivery_id]
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED  # a retryable 500, but a manual retry is one attempt
    second = delivery.attempts_list[1]
    assert (second.trigger, second.triggered_by, second.will_retry) == (AttemptTrigger.MANUAL, "ops@example.com", False)
    assert delivery.scheduled_attempt_count == 1


def test_manual_retry_that_succeeds_completes_the_delivery(app, make_endpoint, receiver):
    make_endpoint()
    delivery_id = fail_once(app, receiver)
    with app.app_context():
        retry_delivery(delivery_id, actor=OPS)
        attempt_delivery(delivery_id)
    assert load(app, delivery_id).status is DeliveryStatus.SUCCEEDED


def test_manual_retry_of_a_pending_delivery_returns_it_to_its_schedule(app, make_endpoint, receiver):
    make_endpoint()
    delivery_id = fail_once(app, receiver, status=503)
    planned = utcnow() + timedelta(minutes=30)
    update(app, Delivery, delivery_id, next_attempt_at=planned)
    receiver.reply(Reply(503))
    with app.app_context():
        retry_delivery(delivery_id, actor=OPS)
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING
    assert abs((delivery.next_attempt_at - planned).total_seconds()) < 0.01
    assert delivery.attempts_list[1].trigger is AttemptTrigger.MANUAL


def test_restart_schedule_starts_the_automatic_chain_again(app, make_endpoint, receiver):
    make_endpoint(max_attempts=2)
    delivery_id = fail_once(app, receiver, status=400)
    receiver.reply(Reply(500))
    with app.app_context():
        retry_delivery(delivery_id, restart_schedule=True)
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING  # 500 is retryable and the chain has attempts left
    assert delivery.attempts_list[1].trigger is AttemptTrigger.SCHEDULED
    assert delivery.scheduled_attempt_count == 1


def test_retry_refuses_succeeded_and_unknown_deliveries(app, make_endpoint, receiver):
    make_endpoint()
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
        outcome = retry_deliveries([delivery_id, "dlv_missing"], actor=OPS)
        assert outcome.changed == []
        assert outcome.skipped == {
            delivery_id: "is succeeded; only failed or pending deliveries can be retried",
            "dlv_missing": "no such delivery",
        }
        with pytest.raises(IllegalTransition):
            retry_delivery(delivery_id)
        with pytest.raises(NotFound):
            retry_delivery("dlv_missing")


def test_cancel_stops_a_pending_delivery(app, make_endpoint, receiver):
    make_endpoint()
    _, (delivery_id,) = send(app)
    with app.app_context():
        assert cancel_delivery(delivery_id).status is DeliveryStatus.CANCELLED
        assert attempt_delivery(delivery_id) is None
    assert receiver.requests == []


def test_cancel_refuses_anything_but_pending(app, make_endpoint, receiver):
    make_endpoint()
    delivery_id = fail_once(app, receiver)
    with app.app_context():
        assert cancel_deliveries([delivery_id]).skipped[delivery_id].startswith("is failed; only pending")
        with pytest.raises(IllegalTransition):
            cancel_delivery(delivery_id)
    assert load(app, delivery_id).status is DeliveryStatus.FAILED


def test_retry_within_the_cooldown_is_skipped_with_the_reason(app, make_endpoint, receiver):
    make_endpoint()
    delivery_id = fail_once(app, receiver)
    receiver.reply(Reply(400))
    with app.app_context():
        assert retry_deliveries([delivery_id], actor=OPS, cooldown_seconds=300).changed == [delivery_id]
        attempt_delivery(delivery_id)
        again = retry_deliveries([delivery_id], actor=OPS, cooldown_seconds=300)
        assert again.changed == [] and again.skipped == {delivery_id: "retried by hand in the last 5 min (cooldown)"}
    update(app, Delivery, delivery_id, manual_retry_at=utcnow() - timedelta(seconds=301))
    with app.app_context():
        assert retry_deliveries([delivery_id], actor=OPS, cooldown_seconds=300).changed == [delivery_id]


def test_retries_and_cancels_are_audited_with_who_and_where(app, make_endpoint, receiver):
    from app.extensions import db
    from app.models import AuditEntry

    make_endpoint()
    failed = fail_once(app, receiver)
    _, (pending,) = send(app)
    with app.app_context():
        retry_deliveries([failed, "dlv_missing"], actor=OPS)
        cancel_delivery(pending, actor=OPS)
        retry_deliveries(["dlv_missing"], actor=OPS)  # changes nothing, so records nothing
        entries = db.session.query(AuditEntry).filter_by(target_type="delivery").order_by(AuditEntry.id).all()
        assert [(e.actor, e.ip, e.action, e.target_ids) for e in entries] == [
            ("ops@example.com", "203.0.113.9", "deliveries.retry", [failed]),
            ("ops@example.com", "203.0.113.9", "delivery.cancel", [pending]),
        ]
        assert entries[0].summary == "retried 1 delivery; skipped 1 (1 no such delivery)"


def test_replay_of_a_pending_delivery_returns_it_to_its_planned_time_on_failure(app, make_endpoint, receiver):
    from app.delivery.operations.deliveries import replay_deliveries

    make_endpoint()
    _, (delivery_id,) = send(app)
    planned = utcnow() + timedelta(hours=1)
    update(app, Delivery, delivery_id, next_attempt_at=planned)
    receiver.reply(Reply(500))
    with app.app_context():
        assert replay_deliveries([delivery_id], actor=OPS).changed == [delivery_id]
        attempt_delivery(delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and abs(delivery.next_attempt_at - planned) < timedelta(seconds=1)
    assert delivery.attempts_list[0].trigger is AttemptTrigger.REPLAY


def test_resolve_needs_a_note_and_a_failed_delivery_and_is_audited(app, make_endpoint, receiver):
    from app.delivery.operations.deliveries import resolve_deliveries
    from app.errors import InvalidInput
    from app.extensions import db
    from app.models import AuditEntry

    make_endpoint()
    failed = fail_once(app, receiver)
    _, (pending,) = send(app)
    with app.app_context():
        with pytest.raises(InvalidInput):
            resolve_deliveries([failed], "  ", actor=OPS)
        outcome = resolve_deliveries([failed, pending], "refunded by hand", actor=OPS)
        assert outcome.changed == [failed] and "is pending" in outcome.skipped[pending]
        entry = db.session.query(AuditEntry).filter_by(action="deliveries.resolve").one()
        assert entry.after == {"note": "refunded by hand"} and entry.target_ids == [failed]
    delivery = load(app, failed)
    assert (delivery.status, delivery.resolved_by, delivery.resolved_note) == (
        DeliveryStatus.FAILED, "ops@example.com", "refunded by hand")


def test_tab_counts_put_resolved_failures_apart_and_can_hide_test_sends(app, make_endpoint, receiver):
    from app.delivery.endpoints.actions import send_test_event
    from app.delivery.operations.deliveries import resolve_deliveries
    from app.delivery.queries import DeliveryFilter, tab_counts

    endpoint = make_endpoint()
    first, second = fail_once(app, receiver), fail_once(app, receiver)
    send(app)
    with app.app_context():
        resolve_deliveries([first], "known", actor=OPS)
        send_test_event(endpoint.id, actor=OPS)
        everything = tab_counts(DeliveryFilter())
        no_tests = tab_counts(DeliveryFilter(hide_tests=True))
    assert (everything["all"], everything["failed"], everything["resolved"], everything["pending"]) == (4, 1, 1, 2)
    assert (no_tests["all"], no_tests["failed"], no_tests["resolved"], no_tests["pending"]) == (3, 1, 1, 1)
    assert second  # the unresolved failure is the one counted as failed
