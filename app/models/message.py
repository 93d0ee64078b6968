"""Message: one event to send, with its payload and the handles staff search by."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_id, utcnow


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("msg"))
    event_type: Mapped[str] = mapped_column(String(200), index=True)
    #: The JSON body exactly as it is signed and sent.
    payload: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    tag_rows: Mapped[list["MessageTag"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", lazy="selectin"
    )
    deliveries = relationship("Delivery", back_populates="message", order_by="Delivery.created_at")

    @property
    def tags(self):
        return [row.tag for row in self.tag_rows]

    def __repr__(self):
        return f"<Message {self.id} {self.event_type}>"


class MessageTag(db.Model):
    """One tag of a message (a QR code, a Shopify order id); its own table so search uses an index."""

    __tablename__ = "message_tags"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)

    message: Mapped[Message] = relationship(back_populates="tag_rows")
