"""checkout: hold slots per buyer, coupon redemptions; accounts: sign-in addresses

Revision ID: d16f0hoard01
Revises: c18f0verif01
Create Date: 2026-12-07 14:45:00.000000
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'd16f0hoard01'
down_revision = 'c18f0verif01'
branch_labels = None
depends_on = None

LIVE_COUPON_ORDER_STATUSES = ('pending', 'paid', 'disputed', 'refunded')


def upgrade() -> None:
    op.create_table('sign_in_addresses',
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('first_signed_in_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_signed_in_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_addresses_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'address_hash', name=op.f('pk_sign_in_addresses'))
    )
    op.create_table('coupon_redemptions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('coupon_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('buyer_id', sa.String(length=40), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('seat IS NULL OR seat >= 1', name=op.f('ck_coupon_redemptions_seat_positive')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_coupon_redemptions_buyer_id_users')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'],
                            name=op.f('fk_coupon_redemptions_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupon_redemptions_order_id_orders'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_redemptions')),
    sa.UniqueConstraint('coupon_id', 'order_id', name=op.f('uq_coupon_redemptions_coupon_id_order_id'))
    )
    with op.batch_alter_table('coupon_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_redemptions_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_redemptions_order_id'), ['order_id'], unique=False)

    # Adding columns only: on SQLite the table is never rebuilt, so its partial index stays.
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('exclusive_holds', sa.Column('buyer_id', sa.String(length=40), nullable=True))
        op.create_foreign_key(op.f('fk_exclusive_holds_buyer_id_users'), 'exclusive_holds', 'users',
                              ['buyer_id'], ['id'])
    else:
        op.execute('ALTER TABLE exclusive_holds ADD COLUMN buyer_id VARCHAR(40) '
                   'CONSTRAINT fk_exclusive_holds_buyer_id_users REFERENCES users (id)')
    op.add_column('exclusive_holds', sa.Column('slot', sa.Integer(), nullable=True))
    _backfill_hold_buyers_and_slots()
    _backfill_coupon_redemptions()
    with op.batch_alter_table('exclusive_holds', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_exclusive_holds_buyer_beat', ['buyer_id', 'beat_id'], unique=False)
        batch_op.create_index('uq_exclusive_holds_one_active_per_buyer_slot', ['buyer_id', 'slot'],
                              unique=True,
                              postgresql_where=sa.text('released_at IS NULL'),
                              sqlite_where=sa.text('released_at IS NULL'))
    with op.batch_alter_table('coupon_redemptions', schema=None) as batch_op:
        batch_op.create_index('uq_coupon_redemptions_one_reservation_per_buyer', ['coupon_id', 'buyer_id'],
                              unique=True,
                              postgresql_where=sa.text('released_at IS NULL AND redeemed_at IS NULL'),
                              sqlite_where=sa.text('released_at IS NULL AND redeemed_at IS NULL'))
        batch_op.create_index('uq_coupon_redemptions_one_use_per_seat', ['coupon_id', 'seat'], unique=True,
                              postgresql_where=sa.text('released_at IS NULL'),
                              sqlite_where=sa.text('released_at IS NULL'))


def _backfill_hold_buyers_and_slots() -> None:
    """Every hold gets its order's buyer; each buyer's active holds get slots 1, 2, ..."""
    bind = op.get_bind()
    bind.execute(sa.text('UPDATE exclusive_holds SET buyer_id = '
                         '(SELECT orders.buyer_id FROM orders WHERE orders.id = exclusive_holds.order_id)'))
    active = bind.execute(sa.text('SELECT id, buyer_id FROM exclusive_holds WHERE released_at IS NULL '
                                  'ORDER BY buyer_id, created_at, id')).all()
    slots: dict[str, int] = {}
    for hold_id, buyer_id in active:
        slots[buyer_id] = slots.get(buyer_id, 0) + 1
        bind.execute(sa.text('UPDATE exclusive_holds SET slot = :slot WHERE id = :id'),
                     {'slot': slots[buyer_id], 'id': hold_id})


def _backfill_coupon_redemptions() -> None:
    """The uses counted until now become rows: paid orders redeemed, pending ones reserved
    (the newest per buyer and coupon; older duplicates are released), seats numbered per coupon."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        'SELECT DISTINCT orders.id, orders.buyer_id, orders.status, orders.created_at, orders.paid_at, '
        'coupons.id, coupons.max_redemptions FROM order_items '
        'JOIN orders ON orders.id = order_items.order_id JOIN coupons ON coupons.id = order_items.coupon_id '
        'WHERE orders.status IN :statuses ORDER BY orders.created_at DESC, orders.id DESC'
    ).bindparams(sa.bindparam('statuses', expanding=True)),
        {'statuses': list(LIVE_COUPON_ORDER_STATUSES)}).all()
    now = dt.datetime.now(dt.timezone.utc)
    seats: dict[str, int] = {}
    reserved: set[tuple[str, str]] = set()
    table = sa.table('coupon_redemptions', *(sa.column(name) for name in (
        'id', 'coupon_id', 'order_id', 'buyer_id', 'seat', 'created_at', 'redeemed_at', 'released_at')))
    for order_id, buyer_id, status, created_at, paid_at, coupon_id, max_redemptions in rows:
        released_at = redeemed_at = None
        if status != 'pending':
            redeemed_at = paid_at or created_at
        elif (coupon_id, buyer_id) in reserved:
            released_at = now
        else:
            reserved.add((coupon_id, buyer_id))
        seat = None
        if max_redemptions is not None and released_at is None:
            seat = seats[coupon_id] = seats.get(coupon_id, 0) + 1
        bind.execute(table.insert().values(
            id=f'red_{order_id[-26:]}{coupon_id[-6:]}', coupon_id=coupon_id, order_id=order_id,
            buyer_id=buyer_id, seat=seat, created_at=created_at, redeemed_at=redeemed_at,
            released_at=released_at))


def downgrade() -> None:
    with op.batch_alter_table('exclusive_holds', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('uq_exclusive_holds_one_active_per_buyer_slot',
                            postgresql_where=sa.text('released_at IS NULL'),
                            sqlite_where=sa.text('released_at IS NULL'))
        batch_op.drop_index('ix_exclusive_holds_buyer_beat')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('fk_exclusive_holds_buyer_id_users'), 'exclusive_holds', type_='foreignkey')
        op.drop_column('exclusive_holds', 'slot')
        op.drop_column('exclusive_holds', 'buyer_id')
    else:
        # SQLite drops a column that references another table only by rebuilding the table; the
        # rebuild is told nothing of the partial index, which is made again by hand.
        op.drop_index('uq_exclusive_holds_one_active_per_beat', table_name='exclusive_holds')
        with op.batch_alter_table('exclusive_holds', schema=None, recreate='always') as batch_op:
            batch_op.drop_column('slot')
            batch_op.drop_column('buyer_id')
        op.create_index('uq_exclusive_holds_one_active_per_beat', 'exclusive_holds', ['beat_id'], unique=True,
                        sqlite_where=sa.text('released_at IS NULL'))
    op.drop_table('coupon_redemptions')
    op.drop_table('sign_in_addresses')
