"""Every kind of work the recovery sweep looks after, in the order it sweeps them (app.work.sweep).

A new kind of leased or scheduled row registers its Sweepable here; tasks/sweeper.py and `flask sweep` run them
all.
"""

from app.delivery.operations.bulk import BULK_JOBS
from app.delivery.operations.sweep import DELIVERIES
from app.inbound.sweep import INBOUND_EVENTS
from app.work import sweep as work

#: The registry: deliveries, then the bulk jobs that retry them, then inbound events.
SWEEPS = (DELIVERIES, BULK_JOBS, INBOUND_EVENTS)


def sweep_all(grace_seconds=None):
    """Run the recovery sweep over every kind; return the SweepResult."""
    return work.sweep(SWEEPS, grace_seconds)


def wake_all():
    """Enqueue every waiting row of every kind (a broker that starts empty); return {kind: how many}."""
    return work.wake(SWEEPS)
