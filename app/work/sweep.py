"""The recovery sweep, written once for every kind of work (deliveries, inbound events, bulk jobs).

Each kind registers a Sweepable: its steps, each a way to take a batch of rows (a compare-and-set, so any
number of sweepers may run at once and each row is taken once) and what to do with the batch once taken; and
how to wake every row waiting for a broker that starts empty. sweep() drains each step in batches of
BATCH_SIZE, one transaction each, so a large backlog never becomes one giant transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models import utcnow

#: Rows taken per transaction.
BATCH_SIZE = 500


@dataclass(frozen=True)
class Step:
    """One thing the sweep does to one kind of row.

    take(now, cutoff, limit) takes up to limit rows (cutoff: now less the grace a due row is left to the
    broker); act(rows, now) does what they need and returns how many it counts. The batch commits after act.
    """

    name: str
    take: Callable
    act: Callable


@dataclass(frozen=True)
class Sweepable:
    """A kind of row the recovery sweep looks after: its steps, in order, and how to wake every waiting row after a
    restart (wake() enqueues them and returns how many)."""

    name: str
    steps: tuple
    wake: Callable | None = None


@dataclass
class SweepResult:
    """How many rows each step of each kind took: {"deliveries": {"expired_leases": 1, "overdue": 0}, ...}.

    result.<step> sums that step over the kinds that have it (result.overdue, result.expired_leases)."""

    counts: dict = field(default_factory=dict)

    @property
    def total(self):
        return sum(n for steps in self.counts.values() for n in steps.values())

    def describe(self):
        """Say what was taken, kind by kind, in one line ("deliveries: 1 expired_leases, 0 overdue; ...")."""
        return "; ".join(f"{kind}: " + ", ".join(f"{n} {step}" for step, n in steps.items())
                         for kind, steps in self.counts.items())

    def __getattr__(self, step):
        found = [steps[step] for steps in self.__dict__.get("counts", {}).values() if step in steps]
        if not found:
            raise AttributeError(step)
        return sum(found)


def signal_each(signal):
    """An act that signals each taken row's id once its batch commits: signal(session, id), as app.outbox's
    enqueue_after_commit and start_job_after_commit do."""

    def act(rows, now):
        for row in rows:
            signal(db.session, row.id)
        return len(rows)

    return act


def drain(step, now, cutoff):
    """Take and act on batches of step's rows until fewer than BATCH_SIZE come; return what act counted."""
    total = 0
    while rows := step.take(now, cutoff, BATCH_SIZE):
        total += step.act(rows, now)
        db.session.commit()
        if len(rows) < BATCH_SIZE:
            break
    return total


def sweep(kinds, grace_seconds=None):
    """Run every step of every kind, in order; return the SweepResult.

    A due row is taken once it is overdue by grace_seconds (default WEBHOOK_SWEEP_GRACE_SECONDS).
    """
    now = utcnow()
    grace = current_app.config["WEBHOOK_SWEEP_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    result = SweepResult()
    for kind in kinds:
        result.counts[kind.name] = {step.name: drain(step, now, cutoff) for step in kind.steps}
    return result


def each_batch(query, key, act):
    """Read query's rows in key order, BATCH_SIZE at a time, act(rows) on each batch and commit; return how
    many rows (a restart's wake: every row, however many, without holding them all)."""
    total, cursor = 0, ""
    while True:
        rows = db.session.execute(query.where(key > cursor).order_by(key).limit(BATCH_SIZE)).all()
        act(rows)
        db.session.commit()
        total += len(rows)
        if len(rows) < BATCH_SIZE:
            return total
        cursor = rows[-1][0]


def wake(kinds):
    """Enqueue every waiting row of every kind that wakes (a broker that starts empty); return {kind: how many}."""
    return {kind.name: kind.wake() for kind in kinds if kind.wake is not None}

