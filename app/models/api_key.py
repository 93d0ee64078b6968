"""ApiKey: a producer's bearer key, stored only as a SHA-256 digest."""

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, new_id, utcnow


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("key"))
    name: Mapped[str] = mapped_column(String(200))
    #: The first characters of the key, enough for a person to recognise it.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime)
    #: What the key may do (app.auth.api_keys.SCOPES); None allows everything, as keys made before scopes did.
    scopes: Mapped[list | None] = mapped_column(JSON)
    #: Who revoked the key ("cli" or a staff email).
    revoked_by: Mapped[str | None] = mapped_column(String(254))
