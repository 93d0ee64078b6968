"""User: a member of staff who signs in to the monitor, with one role."""

import enum

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class Role(enum.Enum):
    VIEWER = "viewer"  # reads everything except secrets
    OPERATOR = "operator"  # retries, cancels, bulk actions
    ADMIN = "admin"  # users, settings, endpoints

    @property
    def rank(self):
        return list(Role).index(self)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.VIEWER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set for a generated one-time password: the user must choose a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at = mapped_column(UTCDateTime)
    #: IANA time zone the pages show times in (a per-person setting).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    #: The language of the staff pages ("en", "vi"); None follows the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(16))
    #: The summary banner stays folded away until then (a person's "dismiss for a while").
    banners_hidden_until = mapped_column(UTCDateTime)
    #: An admin lifted this person's hourly retry cap until then (for an incident); audited.
    retry_cap_lifted_until = mapped_column(UTCDateTime)

    @property
    def is_active(self):
        return self.active

    def has_role(self, role):
        """Say whether this user holds role or a higher one."""
        return self.role.rank >= Role(role).rank

    def __str__(self):
        return self.email
