"""event catalog and reference links

Revision ID: 5df84f08e0e0
Revises: dab7e8d1ef6a
Create Date: 2026-12-06 10:36:17.888822

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5df84f08e0e0'
down_revision = 'dab7e8d1ef6a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_types',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('schema', sa.JSON(), nullable=False),
    sa.Column('example', sa.JSON(), nullable=True),
    sa.Column('deprecated', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_event_types'))
    )
    op.create_table('reference_links',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('event_type_pattern', sa.String(length=200), nullable=True),
    sa.Column('value_pattern', sa.String(length=500), nullable=True),
    sa.Column('url_template', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_links'))
    )


def downgrade():
    op.drop_table('reference_links')
    op.drop_table('event_types')
