from datetime import timedelta

from app.extensions import db
from app.inbound.processing import WORKER_LOST, process_event
from app.inbound.sources import set_source_state
from app.inbound.sweep import enqueue_all_waiting, sweep_inbound
from app.models import InboundAttempt, InboundStatus, utcnow
from tests.inbound.sources_helpers import ADMIN, BODY, load_event, new_event, new_source


def sweep(app, grace=0):
    with app.app_context():
        return sweep_inbound(grace)


def test_an_expired_lease_is_recorded_as_worker_lost_and_retried(app, sent):  # noqa: F811
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.PROCESSING, body=BODY, attempts=1,
                         lease_expires_at=utcnow() - timedelta(seconds=1))
    live_id = new_event(app, source_id, status=InboundStatus.PROCESSING, body=BODY, attempts=1,
                        lease_expires_at=utcnow() + timedelta(minutes=5))
    result = sweep(app)
    assert result.expired_leases == 1
    event = load_event(app, event_id)
    assert (event.status, event.attempts, event.last_error) == (InboundStatus.FAILED, 1, WORKER_LOST)
    assert event.next_attempt_at is not None and event.lease_expires_at is None
    assert [item[0] for item in sent["later"]] == [event_id]
    with app.app_context():
        attempt = db.session.query(InboundAttempt).filter_by(event_id=event_id).one()
        assert (attempt.number, attempt.outcome, attempt.error) == (1, InboundStatus.FAILED, WORKER_LOST)
    assert load_event(app, live_id).status is InboundStatus.PROCESSING  # its worker still holds it
    assert sweep(app).expired_leases == 0  # recorded once
    assert _process(app, event_id).status is InboundStatus.IGNORED  # the retry runs


def _process(app, event_id):
    with app.app_context():
        return process_event(event_id, "retry")


def test_a_lost_processing_counts_towards_the_attempts(app):
    app.config["INBOUND_MAX_ATTEMPTS"] = 2
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.PROCESSING, body=BODY, attempts=2,
                         lease_expires_at=utcnow() - timedelta(seconds=1))
    sweep(app)
    event = load_event(app, event_id)
    assert (event.status, event.next_attempt_at) == (InboundStatus.FAILED, None)


def test_overdue_events_of_enabled_sources_are_enqueued_again_once_per_grace(app, sent):  # noqa: F811
    source_id, _ = new_source(app)
    paused_id, _ = new_source(app, name="paused-shop")
    with app.app_context():
        set_source_state(paused_id, "paused", actor=ADMIN)
    long_ago = utcnow() - timedelta(minutes=5)
    received = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=long_ago)
    failed = new_event(app, source_id, status=InboundStatus.FAILED, body=BODY, next_attempt_at=long_ago)
    replayed = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=long_ago,
                         attempts=1, replayed_at=long_ago)
    new_event(app, source_id, status=InboundStatus.FAILED, body=BODY)  # final: nothing scheduled
    new_event(app, source_id, status=InboundStatus.PROCESSED, body=BODY, next_attempt_at=long_ago)
    new_event(app, paused_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=long_ago)
    assert sweep(app, grace=60).overdue == 3
    assert sorted(sent["now"]) == sorted([(received, "received"), (failed, "retry"), (replayed, "replay")])
    assert sweep(app, grace=60).overdue == 0  # taken: not again before the grace has passed


def test_a_restarted_embedded_worker_wakes_every_waiting_event(app, sent):  # noqa: F811
    source_id, _ = new_source(app)
    received = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=utcnow())
    later = new_event(app, source_id, status=InboundStatus.FAILED, body=BODY,
                      next_attempt_at=utcnow() + timedelta(minutes=10))
    with app.app_context():
        assert enqueue_all_waiting() == 2
    assert sent["now"] == [(received, "received")]
    assert [(i, round(d, -1)) for i, d in sent["later"]] == [(later, 600)]
