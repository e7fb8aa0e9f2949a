"""catalog: each beat's tags beside it, and an index covering the listed offers

Revision ID: l23f1tags001
Revises: a19f1cnsnt01
Create Date: 2026-12-07 22:55:00.000000

beats.tags holds the beat's tags in order, written with its beat_tags rows (which stay the
source of truth), so a listing reads them without a join: a text array with a GIN index on
PostgreSQL, which the tag filter uses; JSON on SQLite, which filters through beat_tags.
ix_offers_listing holds every field of a beat's active offers a listing reads, so the
offers are read from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'l23f1tags001'
down_revision = 'a19f1cnsnt01'
branch_labels = None
depends_on = None

OFFER_LISTING_COLUMNS = ['beat_id', 'position', 'tier_id', 'price_amount', 'currency']


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('beats', sa.Column('tags', postgresql.ARRAY(sa.String(length=30)), nullable=False,
                                         server_default='{}'))
        op.execute("UPDATE beats SET tags = listed.tags FROM (SELECT beat_id, array_agg(tag ORDER BY position) "
                   "AS tags FROM beat_tags GROUP BY beat_id) AS listed WHERE listed.beat_id = beats.id")
        op.alter_column('beats', 'tags', server_default=None)
        op.execute("CREATE INDEX ix_beats_tags ON beats USING gin (tags)")
    else:
        op.add_column('beats', sa.Column('tags', sa.JSON(), nullable=False, server_default='[]'))
        op.execute("UPDATE beats SET tags = (SELECT json_group_array(tag) FROM (SELECT tag FROM beat_tags "
                   "WHERE beat_tags.beat_id = beats.id ORDER BY position)) "
                   "WHERE id IN (SELECT beat_id FROM beat_tags)")
    op.create_index('ix_offers_listing', 'offers', OFFER_LISTING_COLUMNS,
                    postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('ix_offers_listing', table_name='offers')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_beats_tags")
    op.drop_column('beats', 'tags')  # SQLite drops a column in place: no copy of the table
