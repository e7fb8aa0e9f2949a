"""accounts: changes of address waiting for confirmation, and closed accounts

Revision ID: c18f0email01
Revises: d16f0hoard01
Create Date: 2026-12-07 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'c18f0email01'
down_revision = 'd16f0hoard01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'email_change_requests',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('new_email', sa.String(length=254), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('spent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_email_change_requests_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_change_requests')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_email_change_requests_token_hash')),
    )
    with op.batch_alter_table('email_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_change_requests_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('email_change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_change_requests_user_id'))
    op.drop_table('email_change_requests')
