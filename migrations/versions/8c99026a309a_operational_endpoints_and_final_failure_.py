"""operational endpoints (Hookyard's own events), an alert on every final failure, a source's silence window

Revision ID: 8c99026a309a
Revises: 5df84f08e0e0
Create Date: 2026-12-06 10:36:02.758201

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c99026a309a'
down_revision = '5df84f08e0e0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operational', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('alert_on_failure', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('failure_alerted_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('inbound_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('silence_alert_minutes', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('inbound_sources', schema=None) as batch_op:
        batch_op.drop_column('silence_alert_minutes')

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.drop_column('failure_alerted_at')
        batch_op.drop_column('alert_on_failure')
        batch_op.drop_column('operational')
