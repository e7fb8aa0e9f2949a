"""catalog: plays per beat and day, for the studio's charts

Revision ID: d20f1plays01
Revises: e20f1files01
Create Date: 2026-12-07 21:40:00.000000

Each play of a preview counts up its beat's row for the day (UTC). Plays before this revision
are only in beats.play_count: their days are not known, so no rows are made for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd20f1plays01'
down_revision = 'e20f1files01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'beat_daily_plays',
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('plays', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('plays >= 0', name=op.f('ck_beat_daily_plays_plays_not_negative')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_beat_daily_plays_beat_id_beats'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('beat_id', 'day', name=op.f('pk_beat_daily_plays')),
    )


def downgrade() -> None:
    op.drop_table('beat_daily_plays')
