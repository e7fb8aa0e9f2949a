"""checkout: one pending order per cart, closed payment pages, early disputes

Revision ID: c16f0paymnt1
Revises: e17f0contr01
Create Date: 2026-12-07 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'c16f0paymnt1'
down_revision = 'e17f0contr01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cart_fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('session_closed_at', marketplace.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('early_dispute_status', sa.String(length=40), nullable=True))
        batch_op.create_index('uq_orders_one_pending_per_cart', ['buyer_id', 'cart_fingerprint'], unique=True,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
    # Settled orders were paid through their page, which is closed. Expired and failed ones are
    # left open: the sweep asks the provider once about each, and refunds any payment made on it.
    op.execute("UPDATE orders SET session_closed_at = COALESCE(closed_at, paid_at, created_at) "
               "WHERE status IN ('paid', 'refunded', 'disputed')")


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('uq_orders_one_pending_per_cart', postgresql_where=sa.text("status = 'pending'"),
                            sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_column('early_dispute_status')
        batch_op.drop_column('session_closed_at')
        batch_op.drop_column('cart_fingerprint')
