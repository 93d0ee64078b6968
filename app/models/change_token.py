"""Change tokens: one row per watched thing that a PostgreSQL trigger replaces whenever the thing changes, so that a
process can tell with one row whether what it read of it is still current (the receiving endpoints:
app.models.endpoint.RECEIVING_TRIGGERS; the event catalog: app.models.catalog.CATALOG_TRIGGERS)."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ChangeToken(db.Model):
    """A value PostgreSQL replaces (a trigger on the table it watches) whenever what it names changes. No row: as good
    as a token, replaced by the next change."""

    __tablename__ = "change_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), nullable=False)


#: PostgreSQL: the trigger function that replaces the change token its trigger names (TG_ARGV[0]), in the transaction
#: that fired it. Each watched table's trigger statements start with it; it is created again, idempotently, so
#: whichever table is made first has it.
TOKEN_FUNCTION = """CREATE OR REPLACE FUNCTION hookyard_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_tokens (name, token) VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$"""


def current_token_sql(name):
    """PostgreSQL: a scalar subquery for the token named name as it is now ('' when it has no row yet), for a write
    statement to compare with the one its process last read."""
    return f"(SELECT coalesce(max(t.token), '') FROM change_tokens t WHERE t.name = '{name}')"
