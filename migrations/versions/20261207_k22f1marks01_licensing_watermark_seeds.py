"""licensing: the seed of each lease's inaudible mark

Revision ID: k22f1marks01
Revises: i21f1props01
Create Date: 2026-12-07 23:00:00.000000

Leases sold from now on carry a mark in their delivered MP3, derived from a random seed kept
with the license. Licenses sold before keep none: their files were delivered unmarked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'k22f1marks01'
down_revision = 'i21f1props01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('licenses', sa.Column('watermark_seed', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # A plain column, named by no constraint: SQLite drops it in place, without a rebuild.
    op.drop_column('licenses', 'watermark_seed')
