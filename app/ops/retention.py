"""Retention: purge what is big and old, keep what history and metrics need, delete what is very old.

An ordered list of steps, each `fn(older_than, batch_size) -> rows changed`, committing batch by
batch so no transaction holds many rows. Payloads (outbound messages, attempt response bodies and
request headers, inbound bodies, the payload values in audit diffs) older than the payload retention are
emptied, their purge time recorded; rows older than RECORD_RETENTION_DAYS are deleted (messages, inbound
events, rejection samples). A message with a delivery still pending or sending keeps its payload and its
rows, whatever its age: it still has to be sent. Likewise an inbound event keeps its body and rows until it
is settled (app.ops.retention_inbound). The audit entries themselves stay (app.ops.retention_audit).
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Message,
    MessageTag,
    WorkerHeartbeat,
    utcnow,
)
from app.ops.retention_audit import purge_audit_payloads
from app.ops.retention_inbound import (
    delete_old_counts,
    delete_old_inbound_events,
    delete_old_rejections,
    purge_inbound_bodies,
)
from app.work.batches import keyset_batches

#: Statuses whose message must keep its payload and rows.
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
#: What a purged payload becomes: still valid JSON, so every reader keeps working.
PURGED_PAYLOAD = "null"


@dataclass(frozen=True)
class Step:
    """One purge step: a label, fn(older_than, batch_size) -> int, and which retention applies."""

    label: str
    fn: object
    keeps: str  # "payloads" (the payload retention) or "records" (RECORD_RETENTION_DAYS)


def _old_messages(older_than, batch_size, extra=()):
    """Yield batches of ids of messages older than older_than with no open delivery, oldest first."""
    query = select(Message.created_at, Message.id).where(Message.created_at < older_than, *extra)
    for rows in keyset_batches(query, (Message.created_at, Message.id), batch_size):
        if not rows:
            return
        busy = set(db.session.scalars(select(Delivery.message_id).where(
            Delivery.message_id.in_([r.id for r in rows]), Delivery.status.in_(OPEN))))
        yield [r.id for r in rows if r.id not in busy]


def purge_payloads(older_than, batch_size=1000):
    """Replace old outbound payloads with JSON null and record when; return how many."""
    total = 0
    for ids in _old_messages(older_than, batch_size, extra=(Message.payload_purged_at.is_(None),)):
        total += db.session.execute(update(Message).where(Message.id.in_(ids)).values(
            payload=PURGED_PAYLOAD, payload_purged_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    return total


def purge_attempt_bodies(older_than, batch_size=1000):
    """Empty old attempts' response bodies, request headers and formatted request bodies (the metadata stays, and
    when: purged_at); return how many.

    Walks the primary key, which grows with time, and stops at the first batch with nothing old in it.
    """
    total, cursor = 0, 0
    while True:
        rows = db.session.execute(select(DeliveryAttempt.id, DeliveryAttempt.started_at).where(
            DeliveryAttempt.id > cursor).order_by(DeliveryAttempt.id).limit(batch_size)).all()
        old = [r.id for r in rows if r.started_at < older_than]
        if old:
            total += db.session.execute(update(DeliveryAttempt).where(
                DeliveryAttempt.id.in_(old), DeliveryAttempt.purged_at.is_(None)).values(
                response_body=None, response_body_encoding=None, request_headers={}, request_body=None,
                purged_at=utcnow())
                .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if not old or len(rows) < batch_size:
            return total
        cursor = rows[-1].id


def delete_old_records(older_than, batch_size=1000):
    """Delete messages older than older_than with their deliveries, attempts and tags; return messages."""
    total = 0
    for ids in _old_messages(older_than, batch_size):
        deliveries = select(Delivery.id).where(Delivery.message_id.in_(ids))
        for statement in (delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries)),
                          delete(Delivery).where(Delivery.message_id.in_(ids)),
                          delete(MessageTag).where(MessageTag.message_id.in_(ids))):
            db.session.execute(statement.execution_options(synchronize_session=False))
        total += db.session.execute(delete(Message).where(Message.id.in_(ids))
                                    .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    return total


def delete_stale_heartbeats(older_than, batch_size=1000):
    """Forget workers not seen since older_than; return how many."""
    gone = db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < older_than)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return gone


#: The steps, in order, all in one run under the retention job's lease. Adding one is one line here.
STEPS = [
    Step("outbound payloads", purge_payloads, "payloads"),
    Step("attempt response bodies and request headers", purge_attempt_bodies, "payloads"),
    Step("inbound bodies", purge_inbound_bodies, "payloads"),
    Step("payloads in audit entries", purge_audit_payloads, "payloads"),
    Step("old messages, deliveries and attempts", delete_old_records, "records"),
    Step("old inbound events and their attempts", delete_old_inbound_events, "records"),
    Step("old inbound rejection samples", delete_old_rejections, "records"),
    Step("old inbound hourly counts", delete_old_counts, "records"),
    Step("stale worker heartbeats", delete_stale_heartbeats, "records"),
]


def cutoffs(now=None):
    """Return {"payloads": datetime, "records": datetime}: what is older is purged or deleted."""
    from app.staff.settings import get_setting  # late import: staff imports the audit and models

    now = now or utcnow()
    return {"payloads": now - timedelta(days=get_setting("payload_retention_days")),
            "records": now - timedelta(days=get_setting("record_retention_days"))}


def run_retention(batch_size=None, now=None):
    """Run every step in order; return {step label: rows changed}."""
    batch_size = batch_size or current_app.config["RETENTION_BATCH_SIZE"]
    limits = cutoffs(now)
    return {step.label: step.fn(limits[step.keeps], batch_size=batch_size) for step in STEPS}

