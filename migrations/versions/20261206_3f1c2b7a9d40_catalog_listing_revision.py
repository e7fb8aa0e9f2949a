"""catalog: listing revision

Revision ID: 3f1c2b7a9d40
Revises: ad867238392e
Create Date: 2026-12-06 00:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3f1c2b7a9d40'
down_revision = 'ad867238392e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Never rebuild beats on SQLite: the rebuild would drop its full-text search triggers.
    with op.batch_alter_table('beats', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('listing_revision', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    # Never rebuild beats on SQLite: the rebuild would drop its full-text search triggers.
    with op.batch_alter_table('beats', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('listing_revision')
