"""user locale: the language a person chose for the staff pages (none: the browser's)

Revision ID: d95c750937e3
Revises: 83dfb5c7717f
Create Date: 2026-12-06 13:55:16.720173

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd95c750937e3'
down_revision = '83dfb5c7717f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
