"""bulk jobs keep each skip reason's message, so the job page says it in the reader's language

Revision ID: 595d0bab24da
Revises: 246db9b81781
Create Date: 2026-12-06 20:27:07.915689

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '595d0bab24da'
down_revision = '246db9b81781'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: jobs from before show their reasons as stored, in English.
    op.add_column('bulk_jobs', sa.Column('skipped_messages', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.drop_column('skipped_messages')
