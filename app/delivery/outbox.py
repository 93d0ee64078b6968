"""Enqueue deliveries only after the transaction that wrote them commits, and never if it rolls back.

The database row is the truth; the broker message is a wake-up call. Services call
enqueue_after_commit(); when the session's outermost transaction commits, the ids go to every
receiver of `deliveries_committed` (tasks.deliveries connects the Dramatiq sender). A failed send
is logged, never raised into the caller's commit: the recovery sweep finds the row later.
"""

import logging

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent after commit with items=[(delivery_id, delay_seconds), ...].
deliveries_committed = _signals.signal("deliveries-committed")

_KEY = "webhook_outbox"


def enqueue_after_commit(session, delivery_id, delay_seconds=0.0):
    """Ask for delivery_id to be sent to the workers once this session's transaction commits."""
    session.info.setdefault(_KEY, []).append((delivery_id, max(float(delay_seconds), 0.0)))


@event.listens_for(Session, "after_commit")
def _send_committed(session):
    items = session.info.pop(_KEY, None)
    if not items:
        return
    try:
        deliveries_committed.send(session, items=items)
    except Exception:  # noqa: BLE001  the rows are committed; the sweep will enqueue them
        log.exception("could not enqueue %d committed deliveries; the recovery sweep will", len(items))


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session, transaction):
    # Runs after after_commit (which has already taken the items) and on rollback or close.
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_KEY, None)
