"""fair claim: each endpoint's share of worker slots, and the indexes the fair claim reads

Revision ID: 78f72a325596
Revises: a0349aa0b8d1
Create Date: 2026-12-06 07:20:40.118772

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '78f72a325596'
down_revision = 'a0349aa0b8d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_pending_endpoint_due', ['endpoint_id', 'next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_deliveries_leased_endpoint', ['endpoint_id', 'lease_token'], unique=False, postgresql_where=sa.text('lease_token IS NOT NULL'), sqlite_where=sa.text('lease_token IS NOT NULL'))

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_in_flight', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.drop_column('max_in_flight')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_leased_endpoint', postgresql_where=sa.text('lease_token IS NOT NULL'), sqlite_where=sa.text('lease_token IS NOT NULL'))
        batch_op.drop_index('ix_deliveries_pending_endpoint_due', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

