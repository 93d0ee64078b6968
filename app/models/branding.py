"""ShopLogo: the shop's logo an admin uploaded, shown in the partner portal's header and served by Hookyard itself."""

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

#: The id of the one logo row.
LOGO_ID = 1


class ShopLogo(db.Model):
    __tablename__ = "shop_logos"

    #: Always LOGO_ID: a shop has one logo.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: image/png, image/jpeg or image/webp, as read from the file's first bytes (never from its name).
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: SHA-256 of data in hex: the image's ETag, and the version in its URL.
    digest: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    uploaded_by: Mapped[str | None] = mapped_column(String(254))
