import logging

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.inbound import actions
from app.inbound.handlers import INBOUND_HANDLERS, handlers_for, inbound_handler, remove_handler
from app.inbound.processing import process_event
from app.inbound.sources import set_source_state
from app.models import InboundAttempt, InboundEvent, InboundHandle, InboundStatus, Message, utcnow
from tests.inbound.sources_helpers import ADMIN, BODY, load_event, new_event, new_source


def process(app, event_id, trigger="received", **options):
    with app.app_context():
        return process_event(event_id, trigger, **options)


def attempts(app, event_id):
    with app.app_context():
        rows = db.session.scalars(select(InboundAttempt).where(InboundAttempt.event_id == event_id)
                                  .order_by(InboundAttempt.number)).all()
        return [(a.number, a.trigger.value, a.outcome.value, a.error, a.triggered_by) for a in rows]


def test_registry_matches_the_exact_topic_then_every_topic(handlers):
    @handlers(topic="orders/fulfilled")
    def exact(event, payload):
        pass

    @handlers(topic="*")
    def every(event, payload):
        pass

    assert handlers_for("shopify", "orders/fulfilled") == [exact, every]
    assert handlers_for("shopify", "orders/create") == [every]
    assert handlers_for("stripe", "orders/fulfilled") == []
    with pytest.raises(ValueError):
        inbound_handler("nosuchprovider", "x")
    remove_handler(exact)
    assert exact not in INBOUND_HANDLERS[("shopify", "orders/fulfilled")]


def test_handler_gets_the_event_and_its_json_and_its_writes_commit_with_processed(app, handlers, caplog):
    seen = []

    @handlers()
    def record_order(event, payload):
        seen.append((event.id, event.topic, payload))
        db.session.add(InboundHandle(event_id=event.id, handle="written-by-handler"))

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=utcnow())
    with caplog.at_level(logging.INFO, logger="hookyard.events"):
        result = process(app, event_id)
    assert result.status is InboundStatus.PROCESSED
    assert seen == [(event_id, "orders/fulfilled", {"id": 5123, "order_number": 1005, "line_items": [{"sku": "A"}]})]
    event = load_event(app, event_id)
    assert (event.status, event.attempts, event.last_error, event.next_attempt_at, event.lease_expires_at) == (
        InboundStatus.PROCESSED, 1, None, None, None)
    assert event.processed_at is not None
    assert attempts(app, event_id) == [(1, "received", "processed", None, None)]
    with app.app_context():
        assert db.session.scalar(select(InboundHandle.handle).where(InboundHandle.handle == "written-by-handler"))
    assert [r for r in caplog.records if getattr(r, "inbound_event_id", None) == event_id
            and r.status == "processed"]
    assert process(app, event_id) is None  # settled: running the message again does nothing


def test_no_handler_and_no_forwarding_is_ignored(app):
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    assert process(app, event_id).status is InboundStatus.IGNORED
    assert load_event(app, event_id).status is InboundStatus.IGNORED
    assert attempts(app, event_id) == [(1, "received", "ignored", None, None)]


def test_exception_fails_rolls_back_the_handler_and_retries_until_max_attempts(app, handlers, sent):
    app.config["INBOUND_MAX_ATTEMPTS"] = 3

    @handlers()
    def broken(event, payload):
        db.session.add(InboundHandle(event_id=event.id, handle="never-kept"))
        raise RuntimeError("warranty service said no")

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    first = process(app, event_id)
    assert (first.status, first.error) == (InboundStatus.FAILED, "RuntimeError: warranty service said no")
    event = load_event(app, event_id)
    assert (event.status, event.attempts, event.last_error) == (InboundStatus.FAILED, 1, first.error)
    assert event.next_attempt_at is not None and event.lease_expires_at is None
    assert sent["later"] == [(event_id, pytest.approx(0.05))]  # WEBHOOK_RETRY_SCHEDULE's first step
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundHandle)
                                 .where(InboundHandle.handle == "never-kept")) == 0
    process(app, event_id, "retry")
    last = process(app, event_id, "retry")
    assert (last.status, last.number, last.next_attempt_at) == (InboundStatus.FAILED, 3, None)
    assert len(sent["later"]) == 2
    assert process(app, event_id, "retry") is None  # out of attempts: nothing is due any more
    assert [a[:3] for a in attempts(app, event_id)] == [
        (1, "received", "failed"), (2, "retry", "failed"), (3, "retry", "failed")]


def test_a_hookyard_error_is_final(app, handlers, sent):
    @handlers()
    def refuses(event, payload):
        raise InvalidInput("order 1005 has no warranty product")

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    result = process(app, event_id)
    assert (result.status, result.error, result.next_attempt_at) == (
        InboundStatus.FAILED, "order 1005 has no warranty product", None)
    assert sent["later"] == []
    assert load_event(app, event_id).next_attempt_at is None


def test_an_error_never_shows_the_source_secret(app, handlers):
    secret = "shpss_supersecretvalue123"
    source_id, _ = new_source(app, secret=secret)

    @handlers()
    def leaky(event, payload):
        raise RuntimeError(f"could not sign with {secret}")

    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    result = process(app, event_id)
    assert "supersecret" not in result.error and "••••" in result.error
    assert "supersecret" not in load_event(app, event_id).last_error


def test_an_event_being_processed_under_a_live_lease_is_not_taken_twice(app, handlers):
    calls = []

    @handlers()
    def nested(event, payload):
        calls.append(event.id)
        assert process_event(event.id, "received") is None  # a second message for the same event meanwhile

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    assert process(app, event_id).status is InboundStatus.PROCESSED
    assert calls == [event_id]


def test_a_paused_source_holds_its_events_until_resumed(app, handlers, sent):
    seen = []

    @handlers()
    def handle(event, payload):
        seen.append(event.id)

    source_id, _ = new_source(app)
    with app.app_context():
        set_source_state(source_id, "paused", actor=ADMIN)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    assert process(app, event_id) is None
    assert load_event(app, event_id).status is InboundStatus.RECEIVED and seen == []
    with app.app_context():
        set_source_state(source_id, "enabled", actor=ADMIN)
    assert sent["now"] == [(event_id, "resume")]
    assert process(app, event_id, "resume").status is InboundStatus.PROCESSED
    assert seen == [event_id]
    assert attempts(app, event_id) == [(1, "resume", "processed", None, None)]


def test_replay_processes_again_with_trigger_replay_and_who_asked(app, handlers, sent):
    seen = []

    @handlers()
    def handle(event, payload):
        seen.append(event.id)

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    process(app, event_id)
    with app.app_context():
        actions.replay_event(event_id, ADMIN)
    assert sent["now"] == [(event_id, "replay")]
    assert process(app, event_id, "replay").status is InboundStatus.PROCESSED
    assert seen == [event_id, event_id]
    assert attempts(app, event_id)[-1] == (2, "replay", "processed", None, ADMIN.name)


def test_a_failed_replay_is_not_retried(app, handlers, sent):
    @handlers()
    def broken(event, payload):
        raise RuntimeError("down")

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.PROCESSED, body=BODY)
    with app.app_context():
        actions.replay_event(event_id, ADMIN)
    result = process(app, event_id, "replay")
    assert (result.status, result.next_attempt_at) == (InboundStatus.FAILED, None)
    assert sent["later"] == []


def test_a_purged_body_fails_for_good(app, sent):
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=None, body_purged_at=utcnow())
    result = process(app, event_id)
    assert result.status is InboundStatus.FAILED and "purged" in result.error and sent["later"] == []


def test_forwarding_makes_one_message_whatever_replays_it(app, make_endpoint):
    make_endpoint(event_types=["inbound.*"])
    source_id, _ = new_source(app, forward=True)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, provider_event_id="wh-1")
    first = process(app, event_id)
    assert first.status is InboundStatus.PROCESSED and first.forwarded_message_id
    with app.app_context():
        message = db.session.get(Message, first.forwarded_message_id)
        assert (message.event_type, message.idempotency_key, message.reference) == (
            "inbound.shop.orders.fulfilled", f"inbound:{source_id}:wh-1", event_id)
        assert len(message.deliveries) == 1
        actions.replay_event(event_id, ADMIN)
    again = process(app, event_id, "replay")
    assert again.forwarded_message_id == first.forwarded_message_id
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
        assert db.session.get(InboundEvent, event_id).forwarded_message_id == first.forwarded_message_id


def test_forwarding_a_body_that_is_not_a_json_object_fails_for_good(app):
    source_id, _ = new_source(app, forward=True)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=b"[1, 2]")
    result = process(app, event_id)
    assert (result.status, result.next_attempt_at) == (InboundStatus.FAILED, None)
    assert "JSON object" in result.error


def test_a_forwarded_message_can_be_resent_with_its_namespaced_type(app, make_endpoint):
    from app.delivery.operations.resend import resend_delivery

    make_endpoint(event_types=["inbound.*"])
    source_id, _ = new_source(app, forward=True)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, provider_event_id="wh-1")
    forwarded = process(app, event_id).forwarded_message_id
    with app.app_context():
        (delivery,) = db.session.get(Message, forwarded).deliveries
        resent = resend_delivery(delivery.id, {"id": 1}, actor=ADMIN)
        assert db.session.get(Message, resent.id).event_type == "inbound.shop.orders.fulfilled"
