"""licensing: signed license certificates and the keys that sign them

Revision ID: g22f1certs01
Revises: f19f0handle1
Create Date: 2026-12-07 21:30:00.000000

The public keys that sign license certificates, one active at a time (a partial unique index),
and on each license its certificate with the id of the key that signed it. Licenses sold
before have no certificate yet: the licensing sweep signs those whose files are built.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'g22f1certs01'
down_revision = 'f19f0handle1'
branch_labels = None
depends_on = None

CERTIFICATE_HAS_KEY = '(certificate IS NULL) = (certificate_kid IS NULL)'


def upgrade() -> None:
    op.create_table(
        'license_signing_keys',
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('public_jwk', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('retired_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('active', 'retired')", name=op.f('ck_license_signing_keys_state')),
        sa.PrimaryKeyConstraint('kid', name=op.f('pk_license_signing_keys')),
    )
    op.create_index('uq_license_signing_keys_one_active', 'license_signing_keys', ['state'], unique=True,
                    postgresql_where=sa.text("state = 'active'"), sqlite_where=sa.text("state = 'active'"))
    # Adding columns only: on SQLite the licenses table is never rebuilt, so its partial index stays.
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('licenses', sa.Column('certificate', sa.Text(), nullable=True))
        op.add_column('licenses', sa.Column('certificate_kid', sa.String(length=64), nullable=True))
        op.create_foreign_key(op.f('fk_licenses_certificate_kid_license_signing_keys'), 'licenses',
                              'license_signing_keys', ['certificate_kid'], ['kid'])
        op.create_check_constraint(op.f('ck_licenses_certificate_has_key'), 'licenses', CERTIFICATE_HAS_KEY)
    else:
        op.execute('ALTER TABLE licenses ADD COLUMN certificate TEXT')
        op.execute('ALTER TABLE licenses ADD COLUMN certificate_kid VARCHAR(64) '
                   'CONSTRAINT fk_licenses_certificate_kid_license_signing_keys '
                   'REFERENCES license_signing_keys (kid) '
                   f'CONSTRAINT ck_licenses_certificate_has_key CHECK ({CERTIFICATE_HAS_KEY})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_licenses_certificate_has_key'), 'licenses', type_='check')
        op.drop_constraint(op.f('fk_licenses_certificate_kid_license_signing_keys'), 'licenses',
                           type_='foreignkey')
        op.drop_column('licenses', 'certificate_kid')
        op.drop_column('licenses', 'certificate')
    else:
        # Never a rebuild of licenses on SQLite: dropping the table would break every row that
        # refers to it. certificate_kid goes first, and its own check and reference with it.
        op.execute('ALTER TABLE licenses DROP COLUMN certificate_kid')
        op.execute('ALTER TABLE licenses DROP COLUMN certificate')
    op.drop_index('uq_license_signing_keys_one_active', table_name='license_signing_keys',
                  postgresql_where=sa.text("state = 'active'"), sqlite_where=sa.text("state = 'active'"))
    op.drop_table('license_signing_keys')
