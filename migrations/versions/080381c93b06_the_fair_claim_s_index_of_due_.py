"""the fair claim's index of due deliveries ends with the id

Revision ID: 080381c93b06
Revises: 595d0bab24da
Create Date: 2026-12-07 02:25:08.052277

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '080381c93b06'
down_revision = '595d0bab24da'
branch_labels = None
depends_on = None


def upgrade():
    # In the order a claim takes a backlog (oldest due first, then by id), so that it reads only what it takes.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_pending_endpoint_due')
        batch_op.create_index('ix_deliveries_pending_endpoint_due', ['endpoint_id', 'next_attempt_at', 'id'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_pending_endpoint_due')
        batch_op.create_index('ix_deliveries_pending_endpoint_due', ['endpoint_id', 'next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
