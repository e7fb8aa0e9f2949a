"""licensing: license upgrades (an upgrade names the license it supersedes), upgrade floors

Revision ID: h21f1upgrd01
Revises: g22f1certs01
Create Date: 2026-12-07 21:30:00.000000

Columns are only added: on SQLite no table is rebuilt, so the tables' partial indexes stay.
Nothing was upgraded before, so nothing is backfilled; every offer's floor starts at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'h21f1upgrd01'
down_revision = 'g22f1certs01'
branch_labels = None
depends_on = None

# The columns naming a license: (table, column).
_LICENSE_REFERENCES = (('licenses', 'upgrade_of_id'), ('licenses', 'superseded_by_id'),
                       ('order_items', 'upgrade_of_license_id'))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table, column in _LICENSE_REFERENCES:
        name = f'fk_{table}_{column}_licenses'
        if postgres:
            op.add_column(table, sa.Column(column, sa.String(length=40), nullable=True))
            op.create_foreign_key(name, table, 'licenses', [column], ['id'])
        else:
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} VARCHAR(40) '
                       f'CONSTRAINT {name} REFERENCES licenses (id)')
    op.add_column('licenses', sa.Column('superseded_at', marketplace.db.UTCDateTime(timezone=True),
                                        nullable=True))
    check = 'upgrade_floor_amount >= 0 AND upgrade_floor_amount <= price_amount'
    if postgres:
        op.add_column('offers', sa.Column('upgrade_floor_amount', sa.BigInteger(), server_default='0',
                                          nullable=False))
        op.create_check_constraint('ck_offers_upgrade_floor_within_price', 'offers', check)
    else:
        op.execute('ALTER TABLE offers ADD COLUMN upgrade_floor_amount BIGINT DEFAULT \'0\' NOT NULL '
                   f'CONSTRAINT ck_offers_upgrade_floor_within_price CHECK ({check})')
    with op.batch_alter_table('licenses', schema=None, recreate='never') as batch_op:
        batch_op.create_index('uq_licenses_one_standing_upgrade_per_license', ['upgrade_of_id'], unique=True,
                              postgresql_where=sa.text("status <> 'revoked'"),
                              sqlite_where=sa.text("status <> 'revoked'"))
    with op.batch_alter_table('order_items', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_order_items_upgrade_of_license_id', ['upgrade_of_license_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_items', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_order_items_upgrade_of_license_id')
    with op.batch_alter_table('licenses', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('uq_licenses_one_standing_upgrade_per_license')
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.drop_constraint('ck_offers_upgrade_floor_within_price', 'offers', type_='check')
    op.drop_column('offers', 'upgrade_floor_amount')
    op.drop_column('licenses', 'superseded_at')
    for table, column in reversed(_LICENSE_REFERENCES):
        if postgres:
            op.drop_constraint(f'fk_{table}_{column}_licenses', table, type_='foreignkey')
        op.drop_column(table, column)
