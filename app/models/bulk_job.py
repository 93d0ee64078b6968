"""BulkJob: a background retry over every delivery matching a filter, with its progress."""

import enum

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(enum.StrEnum):
    """What a bulk job does: retry failed deliveries by hand, recover an endpoint's since a moment, or wake what
    waited for an endpoint that was resumed (stored as its text)."""

    RETRY = "retry"
    RECOVER = "recover"
    WAKE = "wake"


class BulkJob(db.Model):
    __tablename__ = "bulk_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("job"))
    #: A JobKind's value.
    kind: Mapped[str] = mapped_column(String(32))
    #: The DeliveryFilter the job works through, as given when it was confirmed.
    filters: Mapped[dict] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(254))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    #: Reason -> how many rows were skipped for it (the reason in English: what scripts read).
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Reason (as in skipped) -> its message and values apart (app.stored_text), so the job's page says it in the
    #: reader's language; None on jobs from before.
    skipped_messages: Mapped[dict | None] = mapped_column(JSON)
    #: The last delivery id handled, so a restarted job carries on where it stopped.
    cursor: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at = mapped_column(UTCDateTime)
    #: Updated after every batch; a queued or running job untouched for long is resumed by the sweep.
    touched_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)
