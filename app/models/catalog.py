"""The event catalog (EventType: a documented event with its JSON Schema) and the reference links staff follow
(ReferenceLink: a URL template for references and handles)."""

from sqlalchemy import DDL, JSON, Boolean, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.change_token import TOKEN_FUNCTION
from app.models.types import UTCDateTime, new_id, utcnow


class EventType(db.Model):
    __tablename__ = "event_types"

    #: The event type messages carry (order.created).
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: A JSON Schema (2020-12) every message of this type must satisfy.
    schema: Mapped[object] = mapped_column(JSON)
    #: A payload that satisfies the schema, shown to partners.
    example: Mapped[object | None] = mapped_column(JSON)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Goes up with every change (for people; starts again at 1 if the type is removed and added again).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: New with every change and never used again, even by a type removed and added again: compiled validators are
    #: cached by (name, revision).
    revision: Mapped[str] = mapped_column(String(32), default=lambda: new_id("rev"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by: Mapped[str | None] = mapped_column(String(254))


#: The change token (app.models.change_token) replaced whenever the event catalog changes.
CATALOG_TOKEN = "event_catalog"

#: PostgreSQL: what replaces CATALOG_TOKEN: any statement that adds, changes or removes event types. The migration that
#: added them (c7ef3e290015) holds the same statements.
CATALOG_TRIGGERS = (
    TOKEN_FUNCTION,
    f"""CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_types
    FOR EACH STATEMENT EXECUTE FUNCTION hookyard_token_changed('{CATALOG_TOKEN}')""",
)

for _statement in CATALOG_TRIGGERS:  # with the table, as the migrations make them (tests create tables directly)
    event.listen(EventType.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


class ReferenceLink(db.Model):
    __tablename__ = "reference_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("rl"))
    name: Mapped[str] = mapped_column(String(200))
    #: An event type filter ("order.*"); None: any event type.
    event_type_pattern: Mapped[str | None] = mapped_column(String(200))
    #: What a reference or handle must look like: literal text with {name} or {name:regex} placeholders; None: any.
    value_pattern: Mapped[str | None] = mapped_column(String(500))
    #: An http(s) URL with the pattern's placeholders and {value} (each URL-encoded when filled in).
    url_template: Mapped[str] = mapped_column(String(2048))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(254))
