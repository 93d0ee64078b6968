"""DeliveryAttempt: one HTTP try of a delivery, always recorded."""

import enum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column


class AttemptTrigger(enum.Enum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BULK = "bulk"
    RECOVERY = "recovery"
    TEST = "test"
    REPLAY = "replay"  # sent again by a person or an API call, whatever its status was


class ErrorClass(enum.Enum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"
    HTTP = "http"
    BLOCKED = "blocked"
    CONFIG = "config"
    #: The worker stopped (killed, lost its lease) between sending and recording: the receiver may have it.
    WORKER_LOST = "worker_lost"


class DeliveryAttempt(db.Model):
    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_delivery_id_number", "delivery_id", "number"),
        Index("ix_delivery_attempts_endpoint_id_started_at", "endpoint_id", "started_at"),
        # Attempts a person or a job asked for (scheduled ones have none): a bulk job's outcome is read here.
        Index("ix_delivery_attempts_triggered_by", "triggered_by", sqlite_where=text("triggered_by IS NOT NULL"),
              postgresql_where=text("triggered_by IS NOT NULL")),
        # The overview's success rates and latency over all endpoints; on PostgreSQL the figures are read
        # from the index alone.
        Index("ix_delivery_attempts_started_at", "started_at",
              postgresql_include=["duration_ms", "error_class", "trigger"]),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    #: Copied from the delivery so endpoint health over 24 h is one indexed range scan.
    endpoint_id: Mapped[str | None] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[AttemptTrigger] = mapped_column(enum_column(AttemptTrigger))
    triggered_by: Mapped[str | None] = mapped_column(String(200))
    started_at = mapped_column(UTCDateTime, nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer)
    request_url: Mapped[str] = mapped_column(String(2048))
    #: Request headers with secrets masked.
    request_headers: Mapped[dict] = mapped_column(JSON)
    #: The body sent, when the endpoint's payload format made it differ from the message's payload (None: the
    #: payload as it is, or nothing was sent).
    request_body: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    #: At most WEBHOOK_RESPONSE_BODY_LIMIT_BYTES of the response body: text, or base64 of the bytes when they
    #: are not clean UTF-8 text (see response_body_encoding and app.delivery.attempt.storable).
    response_body: Mapped[str | None] = mapped_column(Text)
    #: None for text; "base64" when response_body holds the raw bytes base64-encoded.
    response_body_encoding: Mapped[str | None] = mapped_column(String(8))
    #: The receiver sent more than the limit kept.
    response_body_truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    error_class: Mapped[ErrorClass | None] = mapped_column(enum_column(ErrorClass))
    error: Mapped[str | None] = mapped_column(Text)
    will_retry: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When retention emptied the response body and request headers (the outcome stays).
    purged_at = mapped_column(UTCDateTime)
    next_attempt_at = mapped_column(UTCDateTime)

    delivery = relationship("Delivery", back_populates="attempts")

    def __repr__(self):
        return f"<DeliveryAttempt {self.delivery_id}#{self.number}>"
