"""proposals: price proposals on beats, sellers' proposal terms per tier, private checkout lines

Revision ID: i21f1props01
Revises: j21f1free001
Create Date: 2026-12-07 22:40:00.000000

New tables, and one column added to order_items (on SQLite the table is not rebuilt, so its
partial indexes stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'i21f1props01'
down_revision = 'j21f1free001'
branch_labels = None
depends_on = None

_OPEN = "status IN ('open', 'countered', 'accepted')"
_STATUSES = "status IN ('open', 'countered', 'accepted', 'paid', 'declined', 'withdrawn', 'expired', 'ended')"


def upgrade() -> None:
    op.create_table(
        'proposals',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('tier_id', sa.String(length=40), nullable=False),
        sa.Column('artist_id', sa.String(length=40), nullable=False),
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('counter_amount', sa.BigInteger(), nullable=True),
        sa.Column('counter_message', sa.Text(), nullable=True),
        sa.Column('agreed_amount', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('slot', sa.Integer(), nullable=True),
        sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('checkout_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('closed_reason', sa.String(length=40), nullable=True),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_STATUSES, name=op.f('ck_proposals_status')),
        sa.CheckConstraint('amount > 0', name=op.f('ck_proposals_amount_positive')),
        sa.CheckConstraint('counter_amount IS NULL OR counter_amount > 0',
                           name=op.f('ck_proposals_counter_positive')),
        sa.CheckConstraint('agreed_amount IS NULL OR agreed_amount > 0',
                           name=op.f('ck_proposals_agreed_positive')),
        sa.CheckConstraint(f'(slot IS NOT NULL AND slot >= 1) = ({_OPEN})',
                           name=op.f('ck_proposals_slot_while_open')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_proposals_beat_id_beats')),
        sa.ForeignKeyConstraint(['tier_id'], ['license_tiers.id'],
                                name=op.f('fk_proposals_tier_id_license_tiers')),
        sa.ForeignKeyConstraint(['artist_id'], ['users.id'], name=op.f('fk_proposals_artist_id_users')),
        sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_proposals_seller_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    )
    with op.batch_alter_table('proposals', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_artist_id'), ['artist_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_seller_id'), ['seller_id'], unique=False)
        for name, columns in (('uq_proposals_artist_slot', ['artist_id', 'slot']),
                              ('uq_proposals_one_open_per_artist_and_beat', ['artist_id', 'beat_id'])):
            batch_op.create_index(name, columns, unique=True, postgresql_where=sa.text('slot IS NOT NULL'),
                                  sqlite_where=sa.text('slot IS NOT NULL'))
    op.create_table(
        'proposal_terms',
        sa.Column('tier_id', sa.String(length=40), nullable=False),
        sa.Column('open', sa.Boolean(), nullable=False),
        sa.Column('minimum_amount', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('minimum_amount >= 0', name=op.f('ck_proposal_terms_minimum_not_negative')),
        sa.ForeignKeyConstraint(['tier_id'], ['license_tiers.id'],
                                name=op.f('fk_proposal_terms_tier_id_license_tiers')),
        sa.PrimaryKeyConstraint('tier_id', name=op.f('pk_proposal_terms')),
    )
    name = 'fk_order_items_proposal_id_proposals'
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('order_items', sa.Column('proposal_id', sa.String(length=40), nullable=True))
        op.create_foreign_key(name, 'order_items', 'proposals', ['proposal_id'], ['id'])
    else:
        op.execute(f'ALTER TABLE order_items ADD COLUMN proposal_id VARCHAR(40) CONSTRAINT {name} '
                   'REFERENCES proposals (id)')
    with op.batch_alter_table('order_items', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_order_items_proposal_id', ['proposal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_items', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_order_items_proposal_id')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('fk_order_items_proposal_id_proposals', 'order_items', type_='foreignkey')
    op.drop_column('order_items', 'proposal_id')
    op.drop_table('proposal_terms')
    with op.batch_alter_table('proposals', schema=None, recreate='never') as batch_op:
        for name in ('uq_proposals_one_open_per_artist_and_beat', 'uq_proposals_artist_slot',
                     'ix_proposals_seller_id', 'ix_proposals_artist_id', 'ix_proposals_beat_id'):
            batch_op.drop_index(name)
    op.drop_table('proposals')
