"""PortalLink: a partner's scoped, expiring bearer link to its own endpoints' webhooks."""

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, new_id, utcnow


class PortalLink(db.Model):
    __tablename__ = "portal_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("pl"))
    #: SHA-256 of the link's token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The endpoints the link reaches; nothing else is visible through it.
    endpoint_ids: Mapped[list] = mapped_column(JSON)
    #: What the link allows besides viewing (app.portal.links.CAPABILITIES); "view" is always among them.
    capabilities: Mapped[list] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(254))
    expires_at = mapped_column(UTCDateTime, nullable=False)
    #: Set when revoked: the link and every session opened with it stop at once.
    revoked_at = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(254))
    #: Last time a partner opened the link (exchanged it for a portal session).
    last_opened_at = mapped_column(UTCDateTime)

    def allows(self, capability):
        """Say whether the link grants capability."""
        return capability in (self.capabilities or ())

    def __repr__(self):
        return f"<PortalLink {self.id}>"
