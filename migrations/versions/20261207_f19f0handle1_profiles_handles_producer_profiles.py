"""profiles: public handles on accounts, producer profiles

Revision ID: f19f0handle1
Revises: e20f0search1
Create Date: 2026-12-07 19:00:00.000000

A handle is kept as written and under a lower-case key with a unique index, so one handle in
two spellings can never belong to two accounts. Nobody has a handle or a profile yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'f19f0handle1'
down_revision = 'e20f0search1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('handle', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('handle_key', sa.String(length=30), nullable=True))
    op.create_index('uq_users_handle_key', 'users', ['handle_key'], unique=True)
    op.create_table(
        'producer_profiles',
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('bio', sa.Text(), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('avatar_key', sa.String(length=255), nullable=True),
        sa.Column('avatar_version', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_producer_profiles_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_producer_profiles')),
    )


def downgrade() -> None:
    op.drop_table('producer_profiles')
    op.drop_index('uq_users_handle_key', table_name='users')
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('handle_key')
        batch_op.drop_column('handle')
