"""Endpoint: a subscriber URL with its secret, signing scheme, filter, limits and health."""

import enum

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


class SigningScheme(enum.Enum):
    STANDARD = "standard"
    SHARED_SECRET = "shared-secret"
    HMAC_SHA256 = "hmac-sha256"


class EndpointState(enum.Enum):
    ENABLED = "enabled"
    PAUSED = "paused"
    DISABLED = "disabled"


class Endpoint(db.Model):
    __tablename__ = "endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("ep"))
    url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: Event-type patterns ("order.created", "order.*"); None or empty receives every event.
    event_types: Mapped[list | None] = mapped_column(JSON)
    signing: Mapped[SigningScheme] = mapped_column(enum_column(SigningScheme), default=SigningScheme.STANDARD)
    #: Fernet token of the current secret; see app.delivery.secrets.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=10)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    state: Mapped[EndpointState] = mapped_column(enum_column(EndpointState), default=EndpointState.ENABLED)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at = mapped_column(UTCDateTime)
    last_failure_at = mapped_column(UTCDateTime)
    #: Start of the current unbroken run of failures (None while healthy).
    failing_since = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    def __repr__(self):
        return f"<Endpoint {self.id} {self.url}>"
