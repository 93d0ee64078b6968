"""AuditEntry: who did what to which rows, when, from where, with what changed."""

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    #: An email for staff, "api:<key name>" for a producer, "system" for the product itself.
    actor: Mapped[str] = mapped_column(String(254))
    #: A dotted verb, e.g. delivery.retry, deliveries.bulk_retry, user.update, login.failed.
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    #: The ids acted on (at most a few thousand; a filter-wide job records its filter instead).
    target_ids: Mapped[list | None] = mapped_column(JSON)
    #: In English, with the values of the moment: what the API, the CLI and exports read.
    summary: Mapped[str] = mapped_column(String(1000))
    #: The same summary as its message and values apart ({"msgid", "values"}, app.stored_text), so the audit log
    #: shows it in the reader's language; None on entries written before it was kept.
    summary_message: Mapped[dict | None] = mapped_column(JSON)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    #: When retention blanked the customer's payload content this entry held (see app.ops.retention_audit).
    payload_purged_at = mapped_column(UTCDateTime)
