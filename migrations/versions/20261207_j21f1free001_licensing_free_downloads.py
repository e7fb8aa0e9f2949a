"""licensing: free downloads (a beat's free-download switch, and the free licenses given)

Revision ID: j21f1free001
Revises: l23f1tags001
Create Date: 2026-12-07 22:50:00.000000

A new table and one added column: on SQLite no table is rebuilt. Every beat starts without
free downloads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'j21f1free001'
down_revision = 'l23f1tags001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('beats', sa.Column('free_download', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    op.create_table(
        'free_licenses',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('license_number', sa.String(length=32), nullable=False),
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('buyer_id', sa.String(length=40), nullable=False),
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('buyer_name', sa.String(length=80), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('credits', sa.JSON(), nullable=False),
        sa.Column('beat_snapshot', sa.JSON(), nullable=False),
        sa.Column('file_key', sa.String(length=255), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('file_size', sa.BigInteger(), nullable=True),
        sa.Column('contract_key', sa.String(length=255), nullable=True),
        sa.Column('contract_template', sa.String(length=40), nullable=True),
        sa.Column('contract_sha256', sa.String(length=64), nullable=True),
        sa.Column('certificate', sa.Text(), nullable=True),
        sa.Column('certificate_kid', sa.String(length=64), nullable=True),
        sa.Column('issued_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f('ck_free_licenses_status')),
        sa.CheckConstraint('(certificate IS NULL) = (certificate_kid IS NULL)',
                           name=op.f('ck_free_licenses_certificate_has_key')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_free_licenses_beat_id_beats')),
        sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_free_licenses_buyer_id_users')),
        sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_free_licenses_seller_id_users')),
        sa.ForeignKeyConstraint(['certificate_kid'], ['license_signing_keys.kid'],
                                name=op.f('fk_free_licenses_certificate_kid_license_signing_keys')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_free_licenses')),
        sa.UniqueConstraint('beat_id', 'buyer_id', name=op.f('uq_free_licenses_beat_id_buyer_id')),
        sa.UniqueConstraint('license_number', name=op.f('uq_free_licenses_license_number')),
    )
    with op.batch_alter_table('free_licenses', schema=None, recreate='never') as batch_op:
        for column in ('beat_id', 'buyer_id', 'seller_id', 'issued_at'):
            batch_op.create_index(batch_op.f(f'ix_free_licenses_{column}'), [column], unique=False)


def downgrade() -> None:
    op.drop_table('free_licenses')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_column('beats', 'free_download')
    else:  # a plain column: SQLite drops it without rebuilding the table
        op.execute('ALTER TABLE beats DROP COLUMN free_download')
