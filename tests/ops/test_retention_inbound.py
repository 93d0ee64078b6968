from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.inbound import counts
from app.inbound.rejections import record_rejection
from app.models import (
    InboundAttempt,
    InboundCount,
    InboundEvent,
    InboundHandle,
    InboundRejection,
    InboundStatus,
    PeriodicRun,
    utcnow,
)
from tests.inbound.sources_helpers import new_event, new_source

DAY = 86_400


def with_attempt(app, event_id):
    with app.app_context():
        db.session.add(InboundAttempt(event_id=event_id, number=1, outcome=InboundStatus.FAILED, error="boom"))
        db.session.commit()
    return event_id


def rows(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_settled_inbound_events_older_than_record_retention_go_with_their_attempts_and_handles(app, runner):
    source_id, _ = new_source(app)
    old = [with_attempt(app, new_event(app, source_id, status=status, age_seconds=91 * DAY, handles=[f"qr-{n}"]))
           for n, status in enumerate((InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.FAILED))]
    held = new_event(app, source_id, status=InboundStatus.RECEIVED, age_seconds=91 * DAY)  # a paused source's
    retrying = new_event(app, source_id, status=InboundStatus.FAILED, age_seconds=91 * DAY,
                         next_attempt_at=utcnow() + timedelta(minutes=5))
    recent = with_attempt(app, new_event(app, source_id, status=InboundStatus.PROCESSED, age_seconds=89 * DAY))

    result = runner.invoke(args=["retention", "run", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "old inbound events and their attempts: 3" in result.output
    with app.app_context():
        left = set(db.session.scalars(select(InboundEvent.id)))
    assert left == {held, retrying, recent}
    assert rows(app, InboundAttempt, InboundAttempt.event_id.in_(old)) == 0
    assert rows(app, InboundHandle, InboundHandle.event_id.in_(old)) == 0
    assert rows(app, InboundAttempt, InboundAttempt.event_id == recent) == 1
    assert "old inbound events and their attempts: 0" in runner.invoke(args=["retention", "run"]).output


def reject(app, source_name, days_ago):
    with app.app_context():
        record_rejection(source_name, "bad_signature", "HMAC mismatch", {"X-Shopify-Topic": "orders/create"},
                         b'{"email": "buyer@example.com"}', 30, "203.0.113.9")
        newest = db.session.scalar(select(func.max(InboundRejection.id)))
        then = utcnow() - timedelta(days=days_ago)
        db.session.execute(InboundRejection.__table__.update().where(InboundRejection.id == newest)
                           .values(rejected_at=then))
        this_hour = InboundCount.hour_start > utcnow() - timedelta(hours=2)
        db.session.execute(InboundCount.__table__.update().where(this_hour).values(hour_start=counts.hour_of(then)))
        db.session.commit()


def test_the_scheduled_retention_run_deletes_old_rejection_samples_and_counts_under_its_lease(app):
    from app.ops.periodic import run_if_due
    from app.ops.schedule import scheduled_jobs

    for days_ago in (120, 95, 91):
        reject(app, "shop", days_ago)
    reject(app, "(unknown)", 92)
    reject(app, "shop", 10)
    (job,) = [j for j in scheduled_jobs(app.config) if j.name == "retention"]
    app.config["RETENTION_BATCH_SIZE"] = 2
    with app.app_context():
        ran, result = run_if_due(job)
        run = db.session.get(PeriodicRun, "retention")
        assert ran and run.holder is None and run.last_error is None  # taken, run, given back
    assert result["old inbound rejection samples"] == 4 and result["old inbound hourly counts"] == 4
    with app.app_context():
        (kept,) = db.session.scalars(select(InboundRejection))
        assert kept.rejected_at > utcnow() - timedelta(days=11)
        assert db.session.scalar(select(func.sum(InboundCount.count))) == 1
