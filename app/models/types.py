"""Column types shared by the models."""

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator
from ulid import ULID


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id(prefix):
    """Return a new time-sortable public id such as msg_01JD...."""
    return f"{prefix}_{ULID()}"


class UTCDateTime(TypeDecorator):
    """Store UTC; always hand back aware UTC datetimes (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum_class: type[enum.Enum], length=16):
    """Return a portable VARCHAR-backed column type holding an enum's values."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
