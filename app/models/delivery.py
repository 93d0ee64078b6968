"""Delivery: one message to one endpoint; the row of the sync log staff see."""

import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, and_, literal_column, or_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.attempt import AttemptTrigger, ErrorClass
from app.models.endpoint import EndpointState
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # waiting for its next attempt at next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_expires_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # final until a person or an API call moves it on
    CANCELLED = "cancelled"


#: The event type of a test send (an endpoint's "Send test event"); the monitor hides these by default.
TEST_EVENT = "webhook.test"


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        # Only pending rows: claims and records move rows out of pending, and a partial index is not written
        # for them (every status change otherwise adds an entry to each index of the table).
        Index("ix_deliveries_pending_next_attempt_at", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
        # The fair claim (app.delivery.attempt.fair): each endpoint's oldest due delivery, and its claims in flight.
        # With id last, the index is in the order a claim takes them (oldest due first, then by id): no sort of the
        # backlog, and a claim reads only the rows it takes.
        Index("ix_deliveries_pending_endpoint_due", "endpoint_id", "next_attempt_at", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_deliveries_leased_endpoint", "endpoint_id", "lease_token",
              postgresql_where=text("lease_token IS NOT NULL"), sqlite_where=text("lease_token IS NOT NULL")),
        # Ordered delivery (app.delivery.attempt.ordering): the unfinished earlier deliveries of a key at an endpoint.
        Index("ix_deliveries_ordering", "endpoint_id", "ordering_key", "ordering_sequence",
              postgresql_where=text("ordering_key IS NOT NULL AND status IN ('pending', 'sending', 'failed')"),
              sqlite_where=text("ordering_key IS NOT NULL")),
        Index("ix_deliveries_status_created_at", "status", "created_at"),
        # Small partial indexes, so the monitor's counts can subtract resolved and test deliveries from the
        # plain per-status counts instead of reading every row.
        Index("ix_deliveries_resolved_created_at", "created_at", sqlite_where=text("resolved_at IS NOT NULL"),
              postgresql_where=text("resolved_at IS NOT NULL")),
        Index("ix_deliveries_test_events_status", "status", sqlite_where=text(f"event_type = '{TEST_EVENT}'"),
              postgresql_where=text(f"event_type = '{TEST_EVENT}'")),
        # Failed deliveries by error group, latest failure last: the overview's top errors and "failed in the
        # last hour" without reading the table. Partial, so an attempt that does not fail a delivery never
        # writes to it.
        Index("ix_deliveries_failed_groups", "endpoint_id", "last_error_class", "last_response_status",
              "last_attempt_at", postgresql_where=text("status = 'failed'"), sqlite_where=text("status = 'failed'")),
    )

    # The one home of which statuses allow which action (services, API and templates all use these).
    #: A retry (one more attempt now) applies to these.
    RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.PENDING)
    #: A replay (send it again, whatever happened before) applies to every status but one in flight.
    REPLAYABLE = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.PENDING)
    # Which deliveries can be cancelled: see cancellable() (a waiting one, or one whose worker is gone).
    #: Only a failed delivery can be marked resolved (it stays failed; the Failed tab leaves it out).
    RESOLVABLE = (DeliveryStatus.FAILED,)
    #: The held_reason of a delivery waiting for its message's deliver_at (app.delivery.scheduling).
    SCHEDULED = "scheduled"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("dlv"))
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    #: Copied from the message so the monitor filters without a join.
    event_type: Mapped[str] = mapped_column(String(200))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    #: Every attempt made, whatever triggered it.
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Attempts made by the automatic chain; the retry schedule and max_attempts count these.
    scheduled_attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime)
    last_attempt_at = mapped_column(UTCDateTime)
    lease_expires_at = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    #: Set when a person or a job asked for the next attempt (manual, bulk, recovery, test).
    next_trigger: Mapped[AttemptTrigger | None] = mapped_column(enum_column(AttemptTrigger))
    next_triggered_by: Mapped[str | None] = mapped_column(String(200))
    #: Where a requested one-off attempt returns the delivery if it fails: the chain's planned
    #: time when it was pending, None (back to failed) when it was failed.
    resume_at = mapped_column(UTCDateTime)
    #: When a person last asked for a retry; staff retries within the cooldown are refused.
    manual_retry_at = mapped_column(UTCDateTime)
    #: Why a due delivery waits instead of being attempted (breaker open, rate limited, ...); cleared when claimed.
    #: next_attempt_at then says until when.
    held_reason: Mapped[str | None] = mapped_column(String(64))
    #: When the recovery sweep last re-enqueued this delivery.
    enqueued_at = mapped_column(UTCDateTime)
    last_response_status: Mapped[int | None] = mapped_column(Integer)
    last_error_class: Mapped[ErrorClass | None] = mapped_column(enum_column(ErrorClass))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: A failed delivery a person looked at and closed, with who, when and why; a retry or replay clears it.
    resolved_at = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolved_note: Mapped[str | None] = mapped_column(String(1000))
    #: The message's ordering key and sequence, copied so the claim finds a key's earlier deliveries by index.
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    ordering_sequence: Mapped[int | None] = mapped_column(BigInteger)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    message = relationship("Message", back_populates="deliveries")
    endpoint = relationship("Endpoint")
    attempts = relationship(
        "DeliveryAttempt", back_populates="delivery", order_by="DeliveryAttempt.number", lazy="select"
    )

    @classmethod
    def has_status(cls, status):
        """SQL: the delivery is in status, with the value written out so the partial indexes of pending and of
        failed rows apply whatever plan the database caches (a bound parameter would not prove their condition)."""
        return cls.status == literal_column(f"'{DeliveryStatus(status).value}'")

    @classmethod
    def is_pending(cls):
        """SQL: the delivery is pending (see has_status)."""
        return cls.has_status(DeliveryStatus.PENDING)

    @classmethod
    def cancellable(cls, now):
        """SQL: the delivery may be cancelled: pending, or sending with its lease run out (its worker is gone)."""
        return or_(cls.status == DeliveryStatus.PENDING,
                   and_(cls.status == DeliveryStatus.SENDING, cls.lease_expires_at < now))

    def is_cancellable(self, now):
        """Say whether the delivery may be cancelled (see cancellable)."""
        return self.status is DeliveryStatus.PENDING or (
            self.status is DeliveryStatus.SENDING and self.lease_expires_at is not None and self.lease_expires_at < now)

    @property
    def can_retry(self):
        return self.status in self.RETRYABLE

    @property
    def can_replay(self):
        return self.status in self.REPLAYABLE

    @property
    def can_cancel(self):
        return self.is_cancellable(utcnow())

    @property
    def can_resolve(self):
        return self.status in self.RESOLVABLE and self.resolved_at is None

    @property
    def scheduled_for(self):
        """When a delivery waiting for its message's deliver_at is to be sent, or None."""
        if self.status is DeliveryStatus.PENDING and self.held_reason == self.SCHEDULED:
            return self.next_attempt_at
        return None

    @property
    def held_because(self):
        """Why a pending delivery is not being attempted (its endpoint's state, a gate), or None."""
        if self.status is not DeliveryStatus.PENDING:
            return None
        if self.endpoint is not None and self.endpoint.state is not EndpointState.ENABLED:
            return f"endpoint {self.endpoint.state.value}"
        return self.held_reason

    def __repr__(self):
        return f"<Delivery {self.id} {self.status.value}>"
