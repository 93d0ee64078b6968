"""Inbound webhooks: the sources they come from, the events a source accepted, their processing attempts,
and the bounded record of rejected requests."""

import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.message import prefix_index
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


class Provider(enum.Enum):
    SHOPIFY = "shopify"
    STRIPE = "stripe"
    STANDARD = "standard"
    GITHUB = "github"
    ZOHO = "zoho"
    #: Any HMAC sender, configured by the source's options (app.inbound.providers.generic).
    GENERIC = "generic"


class SourceState(enum.Enum):
    ENABLED = "enabled"
    PAUSED = "paused"  # requests are accepted and stored, not processed until resumed
    DISABLED = "disabled"  # requests answer 404


class InboundStatus(enum.Enum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"  # no handler and no forwarding


class InboundTrigger(enum.Enum):
    RECEIVED = "received"  # the first processing after the request
    RETRY = "retry"  # a retry after a failed processing
    REPLAY = "replay"  # asked for by a person or an API call
    RESUME = "resume"  # the source was resumed after a pause


class InboundSource(db.Model):
    __tablename__ = "inbound_sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("src"))
    #: URL-safe and unique: the receiving URL is /inbound/<name>.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider))
    description: Mapped[str | None] = mapped_column(Text)
    #: Fernet token of the current verification secret (Zoho: the shared token).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Secrets replaced by a rotation that still verify until they expire: [{"secret": token, "expires_at": iso}].
    retired_secrets: Mapped[list] = mapped_column(JSON, default=list)
    #: Largest age of a signed timestamp accepted (Stripe, Standard Webhooks).
    tolerance_seconds: Mapped[int] = mapped_column(Integer, default=300)
    #: Provider options: Zoho {"token_header": "Authorization", "event_id_field": "id"}; Shopify {"shops": [...]};
    #: generic: how its sender signs (app.inbound.source_rules.check_generic_options).
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Turn each verified, new event into an outbound message "<name>.<topic>".
    forward: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    state: Mapped[SourceState] = mapped_column(enum_column(SourceState), default=SourceState.ENABLED)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    state_changed_at = mapped_column(UTCDateTime)
    state_changed_by: Mapped[str | None] = mapped_column(String(254))
    #: The last alert sent about this source ("failing" or "rejecting"); None once recovered.
    alerted: Mapped[str | None] = mapped_column(String(16))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    events = relationship("InboundEvent", back_populates="source", lazy="dynamic")

    @property
    def url_path(self):
        return f"/inbound/{self.name}"

    def __repr__(self):
        return f"<InboundSource {self.name} {self.provider.value}>"


class InboundEvent(db.Model):
    __tablename__ = "inbound_events"
    __table_args__ = (
        # The deduplication rule: one event per source and provider event id, whatever arrives at once.
        UniqueConstraint("source_id", "provider_event_id", name="uq_inbound_events_source_event"),
        Index("ix_inbound_events_received_at", "received_at"),
        Index("ix_inbound_events_status_received_at", "status", "received_at"),
        Index("ix_inbound_events_source_id_received_at", "source_id", "received_at"),
        # Events waiting for a (re)try: the sweep's and the worker's look-up.
        Index("ix_inbound_events_due", "next_attempt_at", sqlite_where=text("next_attempt_at IS NOT NULL"),
              postgresql_where=text("next_attempt_at IS NOT NULL")),
        prefix_index("ix_inbound_events_provider_event_id", "provider_event_id"),
        # A body signed without its id (Shopify, GitHub) is one event per source within the replay window
        # (app.inbound.replays); NULL digests (other providers, forgotten ones) never conflict.
        Index("uq_inbound_events_source_body_digest", "source_id", "body_digest", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("in"))
    source_id: Mapped[str] = mapped_column(ForeignKey("inbound_sources.id", ondelete="CASCADE"))
    #: The deduplication key: Shopify X-Shopify-Webhook-Id, Stripe's event id, webhook-id, X-GitHub-Delivery,
    #: Zoho's configured field (else a hash of the body).
    provider_event_id: Mapped[str] = mapped_column(String(255))
    #: Hex SHA-256 of the body, for providers that sign the body only (app.inbound.replays); None otherwise, and
    #: once older than the replay window and the same body came again.
    body_digest: Mapped[str | None] = mapped_column(String(64))
    #: A second provider id worth keeping (Shopify X-Shopify-Event-Id, shared by retries of one event).
    provider_event_ref: Mapped[str | None] = mapped_column(String(255))
    #: The event's topic or type (Shopify "orders/fulfilled", Stripe "charge.succeeded").
    topic: Mapped[str | None] = mapped_column(String(200), index=True)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: The raw request body, exactly the bytes that were signed; None once retention purged it.
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_bytes: Mapped[int] = mapped_column(Integer, default=0)
    body_purged_at = mapped_column(UTCDateTime)
    content_type: Mapped[str | None] = mapped_column(String(200))
    #: Request headers {name: value} with credentials (signatures, tokens) masked.
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[InboundStatus] = mapped_column(enum_column(InboundStatus), default=InboundStatus.RECEIVED)
    #: Processing attempts made so far.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When the next processing is due (None: nothing scheduled).
    next_attempt_at = mapped_column(UTCDateTime)
    #: While processing, the time after which the sweep may take the event again (its worker was lost).
    lease_expires_at = mapped_column(UTCDateTime)
    #: While processing, who holds the event: the worker's claim, or the sweep recording a lost worker
    #: (app.work.leases); only its holder may settle it.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    processed_at = mapped_column(UTCDateTime)
    #: Repeated requests of this event that were answered 200 and not processed again.
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    last_duplicate_at = mapped_column(UTCDateTime)
    #: The outbound message this event became when its source forwards.
    forwarded_message_id: Mapped[str | None] = mapped_column(String(32))
    #: The last replay asked for by a person or an API key, and by whom: the replay cooldown reads it, and the
    #: processing it starts records who asked.
    replayed_at = mapped_column(UTCDateTime)
    replayed_by: Mapped[str | None] = mapped_column(String(254))
    #: Set by "mark processed": who settled it by hand and why.
    settled_by: Mapped[str | None] = mapped_column(String(254))
    settled_note: Mapped[str | None] = mapped_column(Text)

    source: Mapped[InboundSource] = relationship(back_populates="events")
    attempt_rows: Mapped[list["InboundAttempt"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="InboundAttempt.number"
    )

    def __repr__(self):
        return f"<InboundEvent {self.id} {self.topic} {self.status.value}>"


class InboundHandle(db.Model):
    """A lower-cased value staff find an inbound event by (order number, QR code, Shopify id), taken once."""

    __tablename__ = "inbound_handles"
    __table_args__ = (prefix_index("ix_inbound_handles_handle", "handle"),)

    event_id: Mapped[str] = mapped_column(ForeignKey("inbound_events.id", ondelete="CASCADE"), primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), primary_key=True)


class InboundAttempt(db.Model):
    """One processing of an inbound event: handlers run and/or forwarding, with its outcome."""

    __tablename__ = "inbound_attempts"
    __table_args__ = (Index("ix_inbound_attempts_event_id_number", "event_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("inbound_events.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[InboundTrigger] = mapped_column(enum_column(InboundTrigger), default=InboundTrigger.RECEIVED)
    triggered_by: Mapped[str | None] = mapped_column(String(254))
    started_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    #: processed, failed or ignored.
    outcome: Mapped[InboundStatus] = mapped_column(enum_column(InboundStatus))
    error: Mapped[str | None] = mapped_column(Text)
    #: The failing handler's traceback, bounded and with the source's secrets masked (app.inbound.failures).
    traceback: Mapped[str | None] = mapped_column(Text)

    event: Mapped[InboundEvent] = relationship(back_populates="attempt_rows")


class InboundRejection(db.Model):
    """A sample of a rejected request (bad signature, stale, too large, unknown source): the first bytes and
    masked headers, never the whole body. Kept bounded: see app.inbound.rejections."""

    __tablename__ = "inbound_rejections"
    __table_args__ = (Index("ix_inbound_rejections_source_name_at", "source_name", "rejected_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(String(64))
    #: bad_signature, missing_signature, stale, too_large, unknown_source, disabled, malformed, too_deep, unknown_shop
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(500))
    rejected_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    body_sample: Mapped[str | None] = mapped_column(Text)
    body_bytes: Mapped[int | None] = mapped_column(Integer)


class InboundCount(db.Model):
    """Requests per source, hour and kind (received, duplicate, and each rejection reason), counted by upsert:
    the Sources page's 24 h counters and the rejected-burst alert read these, however many were rejected."""

    __tablename__ = "inbound_counts"

    source_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_start = mapped_column(UTCDateTime, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
