"""endpoint payload formats: a preset or a template per endpoint, and the body an attempt sent when one made it

Revision ID: dab7e8d1ef6a
Revises: 8d17f00a6c10
Create Date: 2026-12-06 10:39:06.637922

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dab7e8d1ef6a'
down_revision = '8d17f00a6c10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_body', sa.Text(), nullable=True))

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_format', sa.Enum('standard', 'zapier', 'make', 'convertkit', 'template', name='payloadformat', native_enum=False, length=16), server_default='standard', nullable=False))
        batch_op.add_column(sa.Column('payload_template', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('payload_content_type', sa.Enum('application/json', 'application/x-www-form-urlencoded', name='payloadcontenttype', native_enum=False, length=40), server_default='application/json', nullable=False))


def downgrade():
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.drop_column('payload_content_type')
        batch_op.drop_column('payload_template')
        batch_op.drop_column('payload_format')

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_column('request_body')
