"""The audit log: who did what to which rows, when, from where. Written in the same transaction as the change."""

from dataclasses import dataclass

from app.extensions import db
from app.models import AuditEntry

#: At most this many ids are listed on one entry; a larger set records its count (jobs record their filter).
MAX_TARGET_IDS = 1000
#: Actions whose before/after hold a customer's payload under "payload": retention blanks it with the payloads.
PAYLOAD_ACTIONS = ("message.resend",)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff email, "api:<key name>" or "system", and the address they came from."""

    name: str
    ip: str | None = None


SYSTEM = Actor("system")
#: Whoever runs a `flask --app app ...` command.
CLI = Actor("cli")


def record(actor, action, summary, *, target_type=None, target_ids=None, before=None, after=None):
    """Add an audit entry to the current transaction (the caller's commit writes it with the change)."""
    ids = list(target_ids) if target_ids is not None else None
    if ids is not None and len(ids) > MAX_TARGET_IDS:
        summary = f"{summary} (first {MAX_TARGET_IDS} of {len(ids)} ids listed)"
        ids = ids[:MAX_TARGET_IDS]
    entry = AuditEntry(actor=actor.name, ip=actor.ip, action=action, summary=summary[:1000],
                       target_type=target_type, target_ids=ids, before=before, after=after)
    db.session.add(entry)
    return entry
