"""Retention for the audit log: entries that hold a customer's payload (an edited resend's diff) lose that content
with the payloads, and keep who did what, to which rows, and when."""

from sqlalchemy import select

from app.audit import PAYLOAD_ACTIONS
from app.extensions import db
from app.models import AuditEntry, utcnow

#: What each payload value of a diff becomes: the changed paths stay, so the entry still says what was edited.
PURGED = "(purged by retention)"


def blank_payload(side):
    """Return a before/after dict with its "payload" values replaced by PURGED (other keys unchanged)."""
    if not isinstance(side, dict) or "payload" not in side:
        return side
    payload = side["payload"]
    blanked = {path: PURGED for path in payload} if isinstance(payload, dict) else PURGED
    return {**side, "payload": blanked}


def purge_audit_payloads(older_than, batch_size=1000):
    """Blank the payload content of audit entries recorded before older_than and record when; return how many."""
    total = 0
    while True:
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(PAYLOAD_ACTIONS), AuditEntry.at < older_than, AuditEntry.payload_purged_at.is_(None))
            .order_by(AuditEntry.id).limit(batch_size)).all()
        now = utcnow()
        for entry in entries:
            entry.before, entry.after = blank_payload(entry.before), blank_payload(entry.after)
            entry.payload_purged_at = now
        db.session.commit()
        total += len(entries)
        if len(entries) < batch_size:
            return total
