"""accounts: password reset links

Revision ID: c18f0reset01
Revises: 3f1c2b7a9d40
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'c18f0reset01'
down_revision = '3f1c2b7a9d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'password_reset_links',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('spent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_password_reset_links_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_links_token_hash')),
    )
    with op.batch_alter_table('password_reset_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_links_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('password_reset_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_links_user_id'))
    op.drop_table('password_reset_links')
