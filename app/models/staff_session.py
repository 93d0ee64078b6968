"""StaffSession: one signed-in browser, kept on the server so it can be ended (sign-out, password change)."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class StaffSession(db.Model):
    __tablename__ = "staff_sessions"

    #: SHA-256 of the token the session cookie carries; the token itself is never stored.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Refreshed at most once a minute while the session is used.
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: The session ends here at the latest, however active (PERMANENT_SESSION_LIFETIME after sign-in).
    expires_at = mapped_column(UTCDateTime, nullable=False)
    #: Set when the session is ended on purpose; a cookie naming an ended session signs nobody in.
    ended_at = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
