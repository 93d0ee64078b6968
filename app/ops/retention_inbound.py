"""Retention for inbound webhooks: settled events lose their bodies with the payloads, and settled events (with
their attempts and handles), rejection samples and hourly counts go once older than RECORD_RETENTION_DAYS.

An event is settled once processed, ignored, or failed with no retry left; one still to be processed (held by a
paused source, or waiting for a retry) keeps its body and its rows, whatever its age.
"""

from sqlalchemy import delete, select, tuple_, update

from app.extensions import db
from app.models import InboundCount, InboundEvent, InboundRejection, InboundStatus, utcnow
from app.work.batches import keyset_batches

#: Events nothing will process again.
SETTLED = (InboundEvent.status.in_([InboundStatus.PROCESSED, InboundStatus.IGNORED])
           | ((InboundEvent.status == InboundStatus.FAILED) & InboundEvent.next_attempt_at.is_(None)))


def purge_inbound_bodies(older_than, batch_size=1000):
    """Empty the bodies of settled inbound events received before older_than and record when; return how many."""
    total = 0
    query = (select(InboundEvent.received_at, InboundEvent.id)
             .where(InboundEvent.received_at < older_than, InboundEvent.body_purged_at.is_(None), SETTLED))
    for rows in keyset_batches(query, (InboundEvent.received_at, InboundEvent.id), batch_size):
        if rows:
            total += db.session.execute(update(InboundEvent).where(
                InboundEvent.id.in_([r.id for r in rows]), InboundEvent.body_purged_at.is_(None), SETTLED)
                .values(body=None, body_purged_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    return total


def delete_old_inbound_events(older_than, batch_size=1000):
    """Delete settled inbound events received before older_than, with their attempts and handles; return how many.

    The attempts and handles go by the foreign keys' ON DELETE CASCADE, in the statement that deletes the event,
    so an event replayed meanwhile (no longer settled) keeps all of its rows.
    """
    return _delete_in_batches(InboundEvent, (InboundEvent.id,), (InboundEvent.received_at < older_than, SETTLED),
                              (InboundEvent.received_at, InboundEvent.id), batch_size)


def delete_old_rejections(older_than, batch_size=1000):
    """Delete rejected-request samples from before older_than; return how many."""
    return _delete_in_batches(InboundRejection, (InboundRejection.id,), (InboundRejection.rejected_at < older_than,),
                              (InboundRejection.id,), batch_size)


def delete_old_counts(older_than, batch_size=1000):
    """Delete the hourly inbound counts of hours before older_than; return how many."""
    key = (InboundCount.source_name, InboundCount.hour_start, InboundCount.kind)
    return _delete_in_batches(InboundCount, key, (InboundCount.hour_start < older_than,), key, batch_size)


def _delete_in_batches(model, key, where, order_by, batch_size):
    """Delete the rows of model matching where, batch_size keys at a time, each batch committed (the conditions
    are checked again as a batch is deleted, so a row that changed meanwhile stays); return how many."""
    match = key[0] if len(key) == 1 else tuple_(*key)
    total = 0
    while True:
        rows = db.session.execute(select(*key).where(*where).order_by(*order_by).limit(batch_size)).all()
        if rows:
            keys = [row[0] for row in rows] if len(key) == 1 else [tuple(row) for row in rows]
            total += db.session.execute(delete(model).where(match.in_(keys), *where)
                                        .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if len(rows) < batch_size:
            return total
