"""message deliver_at for scheduled delivery: when the producer asked for its deliveries to go (NULL: at once)

Revision ID: a0349aa0b8d1
Revises: 9b34d6eab3de
Create Date: 2026-12-06 07:29:57.459757

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a0349aa0b8d1'
down_revision = '9b34d6eab3de'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deliver_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('deliver_at')
