"""checkout: orders, exclusive holds, coupons, deals; processed payment events; frozen licenses

Revision ID: 5ccb9eedb467
Revises: c7e435525d0b
Create Date: 2026-11-25 15:28:52.507704
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db


revision = '5ccb9eedb467'
down_revision = 'c7e435525d0b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processed_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('received_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_events'))
    )
    op.create_table('bulk_deals',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.String(length=40), nullable=False),
    sa.Column('buy_count', sa.Integer(), nullable=False),
    sa.Column('free_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('buy_count >= 1 AND free_count >= 1', name=op.f('ck_bulk_deals_counts_positive')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_bulk_deals_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_deals'))
    )
    with op.batch_alter_table('bulk_deals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_deals_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('uq_bulk_deals_one_active_per_owner', ['owner_id'], unique=True, postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))

    op.create_table('orders',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('buyer_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=60), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal_amount', sa.BigInteger(), nullable=False),
    sa.Column('discount_amount', sa.BigInteger(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('coupon_code', sa.String(length=40), nullable=True),
    sa.Column('payment_session_id', sa.String(length=255), nullable=True),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('checkout_url', sa.String(length=2000), nullable=True),
    sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refund_requested_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_sent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'paid', 'failed', 'expired', 'refunded', 'disputed')", name=op.f('ck_orders_status')),
    sa.CheckConstraint('discount_amount <= subtotal_amount', name=op.f('ck_orders_discount_within_subtotal')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= total_amount', name=op.f('ck_orders_refund_within_total')),
    sa.CheckConstraint('subtotal_amount >= 0 AND discount_amount >= 0 AND total_amount >= 0', name=op.f('ck_orders_amounts_not_negative')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_orders_buyer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('payment_session_id', name=op.f('uq_orders_payment_session_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_payment_intent_id'), ['payment_intent_id'], unique=False)
        batch_op.create_index('ix_orders_pending_expires_at', ['expires_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.create_table('coupons',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('percent_off', sa.Integer(), nullable=True),
    sa.Column('amount_off', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('beat_id', sa.String(length=40), nullable=True),
    sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('max_redemptions', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'percent' AND percent_off BETWEEN 1 AND 100 AND amount_off IS NULL) OR (kind = 'fixed' AND amount_off > 0 AND percent_off IS NULL)", name=op.f('ck_coupons_discount_valid')),
    sa.CheckConstraint("kind IN ('percent', 'fixed')", name=op.f('ck_coupons_kind')),
    sa.CheckConstraint('max_redemptions IS NULL OR max_redemptions > 0', name=op.f('ck_coupons_max_redemptions_positive')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_coupons_beat_id_beats')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_coupons_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('owner_id', 'code', name=op.f('uq_coupons_owner_id_code'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupons_owner_id'), ['owner_id'], unique=False)

    op.create_table('exclusive_holds',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('beat_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_exclusive_holds_beat_id_beats')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_exclusive_holds_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exclusive_holds'))
    )
    with op.batch_alter_table('exclusive_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exclusive_holds_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exclusive_holds_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_exclusive_holds_one_active_per_beat', ['beat_id'], unique=True, postgresql_where=sa.text('released_at IS NULL'), sqlite_where=sa.text('released_at IS NULL'))

    op.create_table('order_items',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.String(length=40), nullable=False),
    sa.Column('tier_id', sa.String(length=40), nullable=False),
    sa.Column('seller_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('beat_title', sa.String(length=120), nullable=False),
    sa.Column('tier_name', sa.String(length=60), nullable=False),
    sa.Column('list_price_amount', sa.BigInteger(), nullable=False),
    sa.Column('discount_amount', sa.BigInteger(), nullable=False),
    sa.Column('price_amount', sa.BigInteger(), nullable=False),
    sa.Column('discounts', sa.JSON(), nullable=False),
    sa.Column('coupon_id', sa.String(length=40), nullable=True),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('license_id', sa.String(length=40), nullable=True),
    sa.Column('refund_reason', sa.String(length=60), nullable=True),
    sa.Column('refund_id', sa.String(length=255), nullable=True),
    sa.Column('refund_error', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'licensed', 'refunded')", name=op.f('ck_order_items_status')),
    sa.CheckConstraint('list_price_amount > 0 AND discount_amount >= 0 AND price_amount >= 0', name=op.f('ck_order_items_amounts_valid')),
    sa.CheckConstraint('price_amount + discount_amount = list_price_amount', name=op.f('ck_order_items_price_adds_up')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_order_items_beat_id_beats')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_order_items_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_order_items_license_id_licenses')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_items_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_order_items_seller_id_users')),
    sa.ForeignKeyConstraint(['tier_id'], ['license_tiers.id'], name=op.f('fk_order_items_tier_id_license_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_items')),
    sa.UniqueConstraint('license_id', name=op.f('uq_order_items_license_id')),
    sa.UniqueConstraint('order_id', 'beat_id', 'tier_id', name=op.f('uq_order_items_order_id_beat_id_tier_id'))
    )
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_items_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_items_coupon_id'), ['coupon_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_items_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_items_seller_id'), ['seller_id'], unique=False)

    with op.batch_alter_table('licenses', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('frozen_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('licenses', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('frozen_at')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_items_seller_id'))
        batch_op.drop_index(batch_op.f('ix_order_items_order_id'))
        batch_op.drop_index(batch_op.f('ix_order_items_coupon_id'))
        batch_op.drop_index(batch_op.f('ix_order_items_beat_id'))

    op.drop_table('order_items')
    with op.batch_alter_table('exclusive_holds', schema=None) as batch_op:
        batch_op.drop_index('uq_exclusive_holds_one_active_per_beat', postgresql_where=sa.text('released_at IS NULL'), sqlite_where=sa.text('released_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_exclusive_holds_order_id'))
        batch_op.drop_index(batch_op.f('ix_exclusive_holds_beat_id'))

    op.drop_table('exclusive_holds')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_owner_id'))

    op.drop_table('coupons')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_pending_expires_at', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_orders_payment_intent_id'))
        batch_op.drop_index(batch_op.f('ix_orders_buyer_id'))

    op.drop_table('orders')
    with op.batch_alter_table('bulk_deals', schema=None) as batch_op:
        batch_op.drop_index('uq_bulk_deals_one_active_per_owner', postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))
        batch_op.drop_index(batch_op.f('ix_bulk_deals_owner_id'))

    op.drop_table('bulk_deals')
    op.drop_table('processed_events')
