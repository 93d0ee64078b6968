"""audit summaries keep their message and values apart, so the audit log shows them in the reader's language

Entries written before this keep summary_message NULL and show their stored English summary, as before.

Revision ID: 246db9b81781
Revises: c3ec25f7905b
Create Date: 2026-12-06 20:20:30.570175

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '246db9b81781'
down_revision = 'c3ec25f7905b'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: adding it rewrites no row, however long the audit log.
    op.add_column('audit_entries', sa.Column('summary_message', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('summary_message')
