"""Periodic work that runs one at a time across machines, through a lease row in the database.

Every worker process ticks (tasks/periodic.py); on each tick it tries to take the lease of each job
that is due with one compare-and-set UPDATE. Whoever's UPDATE matched runs the job; the others move
on. A holder that dies leaves its lease to expire, and the job runs again on a later tick. The same
works on SQLite (the embedded default) and PostgreSQL, whatever the broker.
"""

import os
import socket
import traceback
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import PeriodicRun, utcnow

#: Who this process is, as a lease holder.
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class PeriodicJob:
    """A piece of periodic work: its name, fn() -> JSON-ready result, and when it is due.

    every_seconds: due that long after its last start. daily_at_hour: due once per UTC day from that hour
    (then every_seconds is ignored). lease_seconds bounds how long a dead holder keeps others waiting.
    """

    name: str
    fn: object
    every_seconds: float = 60.0
    daily_at_hour: int | None = None
    lease_seconds: float = 600.0

    def due_before(self, now):
        """The moment a last start must be before for the job to be due now."""
        if self.daily_at_hour is None:
            return now - timedelta(seconds=self.every_seconds)
        boundary = now.replace(hour=self.daily_at_hour, minute=0, second=0, microsecond=0)
        return boundary if now >= boundary else boundary - timedelta(days=1)


def get_run(name):
    """Return the PeriodicRun row of a job, or None if it never ran."""
    return db.session.get(PeriodicRun, name)


def _ensure_row(name):
    if db.session.scalar(select(PeriodicRun.name).where(PeriodicRun.name == name)) is None:
        try:
            db.session.add(PeriodicRun(name=name))
            db.session.commit()
        except IntegrityError:  # another process created it meanwhile
            db.session.rollback()


def take_lease(job, now=None):
    """Take the job's lease if it is due and nobody holds it; commit; return whether this process has it."""
    now = now or utcnow()
    _ensure_row(job.name)
    taken = db.session.execute(update(PeriodicRun).where(
        PeriodicRun.name == job.name,
        or_(PeriodicRun.lease_expires_at.is_(None), PeriodicRun.lease_expires_at < now),
        or_(PeriodicRun.last_started_at.is_(None), PeriodicRun.last_started_at < job.due_before(now)),
    ).values(holder=HOLDER, lease_expires_at=now + timedelta(seconds=job.lease_seconds), last_started_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


def finish(name, result=None, error=None):
    """Give the lease back and record how the run went; commit."""
    db.session.execute(update(PeriodicRun).where(PeriodicRun.name == name, PeriodicRun.holder == HOLDER).values(
        holder=None, lease_expires_at=None, last_finished_at=utcnow(), last_result=result, last_error=error,
    ).execution_options(synchronize_session=False))
    db.session.commit()


def run_if_due(job):
    """Run the job here if it is due and this process takes its lease; return (ran, result)."""
    if not take_lease(job):
        return False, None
    try:
        result = job.fn()
    except Exception:  # noqa: BLE001  recorded, the lease given back; the job runs again when next due
        db.session.rollback()
        finish(job.name, error=traceback.format_exc(limit=5)[-4000:])
        raise
    finish(job.name, result=result)
    return True, result


def record_run(name, result):
    """Record a run of work that may run in many processes at once (the recovery sweep); commit."""
    _ensure_row(name)
    now = utcnow()
    db.session.execute(update(PeriodicRun).where(PeriodicRun.name == name).values(
        last_started_at=now, last_finished_at=now, last_result=result, last_error=None,
    ).execution_options(synchronize_session=False))
    db.session.commit()
