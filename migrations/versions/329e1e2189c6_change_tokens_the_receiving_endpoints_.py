"""change tokens: the receiving endpoints' token, replaced by a trigger

Revision ID: 329e1e2189c6
Revises: 080381c93b06
Create Date: 2026-12-07 09:42:30.653597

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '329e1e2189c6'
down_revision = '080381c93b06'
branch_labels = None
depends_on = None

# As app.models.endpoint.RECEIVING_TRIGGERS made them at this revision: on PostgreSQL, a write of messages compares
# this one row with the token its process last read, instead of an md5 of every receiving endpoint.
TRIGGERS = (
    """CREATE OR REPLACE FUNCTION hookyard_receiving_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_tokens (name, token) VALUES ('receiving_endpoints', md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER receiving_rows AFTER INSERT OR DELETE OR TRUNCATE ON endpoints
    FOR EACH STATEMENT EXECUTE FUNCTION hookyard_receiving_changed()""",
    """CREATE TRIGGER receiving_columns AFTER UPDATE ON endpoints FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
          OR OLD.operational IS DISTINCT FROM NEW.operational OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.id IS DISTINCT FROM NEW.id OR OLD.event_types::text IS DISTINCT FROM NEW.event_types::text)
    EXECUTE FUNCTION hookyard_receiving_changed()""",
)


def upgrade():
    op.create_table('change_tokens',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_change_tokens'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in TRIGGERS:
            op.execute(statement)
        # A first token: a process that read the endpoints before this revision compares it with nothing it holds.
        op.execute("INSERT INTO change_tokens (name, token) "
                   "VALUES ('receiving_endpoints', md5(random()::text || clock_timestamp()::text))")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER receiving_columns ON endpoints")
        op.execute("DROP TRIGGER receiving_rows ON endpoints")
        op.execute("DROP FUNCTION hookyard_receiving_changed()")
    op.drop_table('change_tokens')
