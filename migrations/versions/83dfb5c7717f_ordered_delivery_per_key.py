"""ordered delivery per key: messages and deliveries carry an ordering key and sequence, endpoints an ordering_failure policy, ordering_keys counts each key's sequence

Revision ID: 83dfb5c7717f
Revises: 8c99026a309a
Create Date: 2026-12-06 10:36:34.356878

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '83dfb5c7717f'
down_revision = '8c99026a309a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ordering_keys',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_ordering_keys'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordering_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ordering_sequence', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_deliveries_ordering', ['endpoint_id', 'ordering_key', 'ordering_sequence'], unique=False, postgresql_where=sa.text("ordering_key IS NOT NULL AND status IN ('pending', 'sending', 'failed')"), sqlite_where=sa.text('ordering_key IS NOT NULL'))

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordering_failure', sa.Enum('hold', 'skip', name='orderingfailure', native_enum=False, length=16), server_default='hold', nullable=False))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordering_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ordering_sequence', sa.BigInteger(), nullable=True))



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('ordering_sequence')
        batch_op.drop_column('ordering_key')

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.drop_column('ordering_failure')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_ordering', postgresql_where=sa.text("ordering_key IS NOT NULL AND status IN ('pending', 'sending', 'failed')"), sqlite_where=sa.text('ordering_key IS NOT NULL'))
        batch_op.drop_column('ordering_sequence')
        batch_op.drop_column('ordering_key')

    op.drop_table('ordering_keys')
