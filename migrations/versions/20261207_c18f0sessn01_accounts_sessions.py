"""accounts: sessions (device and last use of each access token)

Revision ID: c18f0sessn01
Revises: c18f0reset01
Create Date: 2026-12-07 15:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'c18f0sessn01'
down_revision = 'c18f0reset01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('address')
        batch_op.drop_column('user_agent')
