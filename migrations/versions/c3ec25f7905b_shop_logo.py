"""shop logo: the image an admin uploads for the partner portal's header, one row, served by Hookyard itself

Revision ID: c3ec25f7905b
Revises: d95c750937e3
Create Date: 2026-12-06 13:55:04.886602

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3ec25f7905b'
down_revision = 'd95c750937e3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shop_logos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_logos'))
    )


def downgrade():
    op.drop_table('shop_logos')
