from datetime import timedelta

import pytest

from app import outbox
from app.audit import Actor
from app.errors import IllegalTransition, InvalidInput, LimitReached, NotFound
from app.extensions import db
from app.inbound import actions
from app.inbound.sources import set_source_state
from app.models import AuditEntry, InboundStatus, utcnow
from app.staff.settings import set_setting
from tests.inbound.sources_helpers import ADMIN, load_event, new_event, new_source


@pytest.fixture
def enqueued():
    """The (event id, trigger) pairs handed to the workers after a commit."""
    sent = []

    def receive(sender, items):
        sent.extend(items)

    outbox.inbound_committed.connect(receive)
    yield sent
    outbox.inbound_committed.disconnect(receive)


def test_replay_processes_again_whatever_the_status_and_is_audited(app, enqueued):
    source_id, _ = new_source(app)
    ids = [new_event(app, source_id, status=status, settled_by="x", settled_note="done") for status in (
        InboundStatus.FAILED, InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.PROCESSING)]
    with app.app_context():
        outcome = actions.replay_events(ids + ["in_missing"], ADMIN)
    assert outcome.changed == ids[:3]
    assert outcome.skipped == {ids[3]: "is processing; an event being processed cannot be replayed",
                               "in_missing": actions.MISSING}
    assert enqueued == [(i, "replay") for i in ids[:3]]
    event = load_event(app, ids[0])
    assert (event.status, event.replayed_by, event.settled_note) == (InboundStatus.RECEIVED, ADMIN.name, None)
    assert event.next_attempt_at is not None and event.replayed_at is not None
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="inbound_events.replay").all()
        assert entry.target_ids == ids[:3] and entry.summary.startswith("replayed 3 inbound events; skipped 2")


def test_replay_respects_the_cooldown(app, enqueued):
    source_id, _ = new_source(app)
    recent = new_event(app, source_id, replayed_at=utcnow() - timedelta(seconds=30))
    earlier = new_event(app, source_id, replayed_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        outcome = actions.replay_events([recent, earlier], ADMIN, cooldown_seconds=300)
    assert outcome.changed == [earlier] and "cooldown" in outcome.skipped[recent]
    with app.app_context(), pytest.raises(IllegalTransition, match="cooldown"):
        actions.replay_event(earlier, ADMIN)  # the default cooldown is the staff setting (300 s)


def test_replay_counts_against_the_hourly_cap_with_outbound_retries(app, enqueued):
    source_id, _ = new_source(app)
    ids = [new_event(app, source_id) for _ in range(3)]
    operator = Actor("operator@example.com")
    with app.app_context():
        set_setting("retry_hourly_cap", 2, actor=ADMIN)
        actions.replay_events(ids[:1], operator)
        actions.replay_event(ids[1], operator)
        with pytest.raises(LimitReached, match="2 of 2"):
            actions.replay_events(ids[2:], operator)
        assert actions.replay_events(ids[2:], operator, check_cap=False).changed == ids[2:]  # the caller checked
    assert len(enqueued) == 3


def test_events_of_a_paused_source_or_purged_body_are_not_replayed(app, enqueued, monkeypatch):
    source_id, _ = new_source(app)
    purged = new_event(app, source_id, body=None, body_purged_at=utcnow())
    held = new_event(app, source_id)
    with app.app_context():
        assert "purged" in actions.replay_events([purged], ADMIN).skipped[purged]
        set_source_state(source_id, "paused", None, ADMIN)
        assert actions.replay_events([held], ADMIN).skipped[held] == "its source is paused; resume it first"
    assert enqueued == []


def test_mark_processed_settles_failed_and_ignored_events_with_a_note(app):
    source_id, _ = new_source(app)
    failed = new_event(app, source_id, next_attempt_at=utcnow())
    ignored = new_event(app, source_id, status=InboundStatus.IGNORED)
    done = new_event(app, source_id, status=InboundStatus.PROCESSED)
    with app.app_context():
        outcome = actions.mark_processed([failed, ignored, done], " refunded by hand in Shopify ", ADMIN)
    assert outcome.changed == [failed, ignored]
    assert outcome.skipped == {done: "is processed; only failed or ignored events can be marked processed"}
    event = load_event(app, failed)
    assert (event.status, event.next_attempt_at, event.settled_by, event.settled_note) == (
        InboundStatus.PROCESSED, None, ADMIN.name, "refunded by hand in Shopify")
    assert event.processed_at is not None
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="inbound_events.mark_processed").all()
        assert entry.after == {"note": "refunded by hand in Shopify"}


@pytest.mark.parametrize("note", ["", "   ", None, "x" * 1001, 7])
def test_mark_processed_needs_a_note(app, note):
    source_id, _ = new_source(app)
    failed = new_event(app, source_id)
    with app.app_context(), pytest.raises(InvalidInput, match="note"):
        actions.mark_processed([failed], note, ADMIN)
    assert load_event(app, failed).status is InboundStatus.FAILED


def test_single_event_actions_say_why_they_cannot(app, enqueued):
    source_id, _ = new_source(app)
    done = new_event(app, source_id, status=InboundStatus.PROCESSED)
    with app.app_context():
        with pytest.raises(NotFound):
            actions.mark_event_processed("in_nope", "note", ADMIN)
        with pytest.raises(IllegalTransition, match="only failed or ignored"):
            actions.mark_event_processed(done, "note", ADMIN)
        assert actions.replay_event(done, ADMIN).status is InboundStatus.RECEIVED
