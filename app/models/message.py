"""Message: one event to send, with its payload and the handles staff search by."""

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_id, utcnow


def prefix_index(name, column, *, everywhere=True):
    """An index that also serves LIKE 'term%' on PostgreSQL whatever the database collation."""
    index = Index(name, column, postgresql_ops={column: "varchar_pattern_ops"})
    return index if everywhere else index.ddl_if(dialect="postgresql")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        prefix_index("ix_messages_reference", "reference"),
        # SQLite already has the primary key and unique indexes for its GLOB prefix search.
        prefix_index("ix_messages_id_prefix", "id", everywhere=False),
        prefix_index("ix_messages_idempotency_key_prefix", "idempotency_key", everywhere=False),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("msg"))
    event_type: Mapped[str] = mapped_column(String(200), index=True)
    #: The JSON body exactly as it is signed and sent.
    payload: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    #: When the producer asked for its deliveries to be sent (scheduled delivery); None sends them at once.
    deliver_at = mapped_column(UTCDateTime)
    #: Deliveries of messages with the same key go to each endpoint in the order of ordering_sequence.
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    #: The message's place in its ordering key: increasing, assigned at intake (OrderingKey), sent as webhook-sequence.
    ordering_sequence: Mapped[int | None] = mapped_column(BigInteger)
    #: When retention replaced the payload with JSON null (see app.ops.retention).
    payload_purged_at = mapped_column(UTCDateTime)
    #: The message this one was resent from, with an edited payload ("edit and resend").
    resent_from_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)

    tag_rows: Mapped[list["MessageTag"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", lazy="selectin"
    )
    deliveries = relationship("Delivery", back_populates="message", order_by="Delivery.created_at")
    resent_from = relationship("Message", remote_side=[id], back_populates="resends")
    resends = relationship("Message", back_populates="resent_from", order_by="Message.created_at")

    @property
    def tags(self):
        return [row.tag for row in self.tag_rows]

    def __repr__(self):
        return f"<Message {self.id} {self.event_type}>"


class MessageTag(db.Model):
    """One tag of a message (a QR code, a Shopify order id); its own table so search uses an index."""

    __tablename__ = "message_tags"
    __table_args__ = (prefix_index("ix_message_tags_tag", "tag"),)

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)

    message: Mapped[Message] = relationship(back_populates="tag_rows")


class MessageHandle(db.Model):
    """A lower-cased handle staff search a message by: its reference (with and without "#"), tags, idempotency
    key and configured payload fields (see app.search)."""

    __tablename__ = "message_handles"
    __table_args__ = (prefix_index("ix_message_handles_handle", "handle"),)

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), primary_key=True)


class OrderingKey(db.Model):
    """The last sequence number given to a message with this ordering key. Producers of the same key take it in
    turn (its row is locked until the message is committed), so a key's sequence follows the order of commits."""

    __tablename__ = "ordering_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)
