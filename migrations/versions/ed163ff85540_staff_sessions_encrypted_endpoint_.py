"""staff sessions, encrypted endpoint headers, api key scopes

Server-side staff sessions (sign-out and password changes end them), API key scopes (NULL keeps a key's
full access), and custom endpoint header values encrypted at rest like the signing secret. Header values
already written into audit entries in clear are masked.

Revision ID: ed163ff85540
Revises: 43daec3c87e3
Create Date: 2026-11-30 14:27:41.858399

"""
from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'ed163ff85540'
down_revision = '43daec3c87e3'
branch_labels = None
depends_on = None

#: What a header value shows as in pages, API answers and audit entries.
MASK = "••••••••"

endpoints = sa.table("endpoints", sa.column("id", sa.String), sa.column("headers", sa.JSON),
                     sa.column("headers_encrypted", sa.JSON))
audit_entries = sa.table("audit_entries", sa.column("id", sa.Integer), sa.column("target_type", sa.String),
                         sa.column("before", sa.JSON), sa.column("after", sa.JSON))


def _cipher():
    # The app's SECRETS_ENCRYPTION_KEY (newest key first), as app.delivery.endpoints.secrets reads it.
    keys = [k.strip() for k in (current_app.config["SECRETS_ENCRYPTION_KEY"] or "").split(",") if k.strip()]
    return MultiFernet([Fernet(key) for key in keys])


def _convert(source, target, change):
    connection = op.get_bind()
    for row in connection.execute(sa.select(endpoints.c.id, endpoints.c[source])).all():
        values = {name: change(value) for name, value in (row[1] or {}).items()}
        connection.execute(endpoints.update().where(endpoints.c.id == row[0]).values({target: values}))


def _mask_audit_headers():
    connection = op.get_bind()
    rows = connection.execute(sa.select(audit_entries.c.id, audit_entries.c.before, audit_entries.c.after)
                              .where(audit_entries.c.target_type == "endpoint")).all()
    for entry_id, before, after in rows:
        masked = [dict(part, headers=dict.fromkeys(part["headers"], MASK))
                  if isinstance(part, dict) and isinstance(part.get("headers"), dict) else part
                  for part in (before, after)]
        if masked != [before, after]:
            connection.execute(audit_entries.update().where(audit_entries.c.id == entry_id)
                               .values(before=masked[0], after=masked[1]))


def upgrade():
    op.create_table('staff_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=254), nullable=True))

    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers_encrypted', sa.JSON(), nullable=True))
    cipher = _cipher()
    _convert("headers", "headers_encrypted", lambda value: cipher.encrypt(value.encode()).decode())
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.alter_column('headers_encrypted', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('headers')
    _mask_audit_headers()


def downgrade():
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))
    cipher = _cipher()
    _convert("headers_encrypted", "headers", lambda token: cipher.decrypt(token.encode()).decode())
    with op.batch_alter_table('endpoints', schema=None) as batch_op:
        batch_op.alter_column('headers', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('headers_encrypted')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('scopes')

    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))

    op.drop_table('staff_sessions')
