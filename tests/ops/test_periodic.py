from datetime import timedelta

import pytest

from app.extensions import db
from app.models import PeriodicRun, utcnow
from app.ops import periodic
from app.ops.periodic import PeriodicJob, run_if_due, take_lease


def test_only_one_process_takes_a_due_lease(app):
    job = PeriodicJob("snapshot", lambda: None, every_seconds=30)
    with app.app_context():
        assert take_lease(job) is True
        assert take_lease(job) is False  # held, whoever asks


def test_a_finished_job_is_not_due_again_until_its_interval_has_passed(app):
    runs = []
    job = PeriodicJob("count", lambda: runs.append(1) or {"n": len(runs)}, every_seconds=60)
    with app.app_context():
        assert run_if_due(job) == (True, {"n": 1})
        assert run_if_due(job) == (False, None)
        assert db.session.get(PeriodicRun, "count").last_result == {"n": 1}
        db.session.get(PeriodicRun, "count").last_started_at = utcnow() - timedelta(seconds=61)
        db.session.commit()
        assert run_if_due(job)[0] is True
    assert len(runs) == 2


def test_a_dead_holders_lease_expires_and_another_process_takes_over(app):
    job = PeriodicJob("retention", lambda: "done", every_seconds=60, lease_seconds=600)
    with app.app_context():
        db.session.add(PeriodicRun(name="retention", holder="dead-host:1", lease_expires_at=utcnow() + timedelta(
            minutes=5), last_started_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
        assert run_if_due(job) == (False, None)
        db.session.get(PeriodicRun, "retention").lease_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert run_if_due(job) == (True, "done")
        row = db.session.get(PeriodicRun, "retention")
        assert row.holder is None and row.last_result == "done"


def test_a_failing_job_records_its_error_and_gives_the_lease_back(app):
    def boom():
        raise RuntimeError("database on fire")

    with app.app_context():
        with pytest.raises(RuntimeError):
            run_if_due(PeriodicJob("alerts", boom))
        row = db.session.get(PeriodicRun, "alerts")
        assert "database on fire" in row.last_error and row.holder is None and row.lease_expires_at is None


def test_a_daily_job_is_due_once_per_utc_day_from_its_hour():
    job = PeriodicJob("digest", None, daily_at_hour=6)
    now = utcnow().replace(hour=7, minute=0, second=0, microsecond=0)
    assert job.due_before(now) == now.replace(hour=6)
    early = now.replace(hour=5)
    assert job.due_before(early) == early.replace(hour=6) - timedelta(days=1)


def test_holder_names_this_process():
    import os

    assert periodic.HOLDER.endswith(f":{os.getpid()}")
