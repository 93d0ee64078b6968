"""change tokens: the event catalog's token, replaced by a trigger

Revision ID: c7ef3e290015
Revises: 329e1e2189c6
Create Date: 2026-12-07 10:44:51.728303

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7ef3e290015'
down_revision = '329e1e2189c6'
branch_labels = None
depends_on = None

# As app.models.catalog.CATALOG_TRIGGERS made them at this revision: on PostgreSQL, a write of messages compares
# this one row with the token its process last read, instead of an md5 of every event type.
TRIGGERS = (
    """CREATE OR REPLACE FUNCTION hookyard_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_tokens (name, token) VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_types
    FOR EACH STATEMENT EXECUTE FUNCTION hookyard_token_changed('event_catalog')""",
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in TRIGGERS:
            op.execute(statement)
        # A first token: a process that read the catalog before this revision compares it with nothing it holds.
        op.execute("INSERT INTO change_tokens (name, token) "
                   "VALUES ('event_catalog', md5(random()::text || clock_timestamp()::text)) "
                   "ON CONFLICT (name) DO NOTHING")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER catalog_changed ON event_types")
        op.execute("DROP FUNCTION hookyard_token_changed()")
        op.execute("DELETE FROM change_tokens WHERE name = 'event_catalog'")
