"""change tokens: one trigger function for every token

Revision ID: a1d4c9e27b53
Revises: c7ef3e290015
Create Date: 2026-12-07 11:50:13.840027

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1d4c9e27b53'
down_revision = 'c7ef3e290015'
branch_labels = None
depends_on = None

# As app.models.endpoint.RECEIVING_TRIGGERS made them at this revision: the endpoints' triggers run the one function
# every change token uses (made by c7ef3e290015), named with their token, instead of a function of their own.
COLUMNS_CHANGED = """(OLD.state IS DISTINCT FROM NEW.state OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
          OR OLD.operational IS DISTINCT FROM NEW.operational OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.id IS DISTINCT FROM NEW.id OR OLD.event_types::text IS DISTINCT FROM NEW.event_types::text)"""

# What 329e1e2189c6 made, for the downgrade.
OWN_FUNCTION = """CREATE OR REPLACE FUNCTION hookyard_receiving_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_tokens (name, token) VALUES ('receiving_endpoints', md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$"""


def _triggers(function_call):
    op.execute("DROP TRIGGER receiving_columns ON endpoints")
    op.execute("DROP TRIGGER receiving_rows ON endpoints")
    op.execute("CREATE TRIGGER receiving_rows AFTER INSERT OR DELETE OR TRUNCATE ON endpoints "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {function_call}")
    op.execute(f"CREATE TRIGGER receiving_columns AFTER UPDATE ON endpoints FOR EACH ROW WHEN {COLUMNS_CHANGED} "
               f"EXECUTE FUNCTION {function_call}")


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _triggers("hookyard_token_changed('receiving_endpoints')")
        op.execute("DROP FUNCTION hookyard_receiving_changed()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(OWN_FUNCTION)
        _triggers("hookyard_receiving_changed()")
