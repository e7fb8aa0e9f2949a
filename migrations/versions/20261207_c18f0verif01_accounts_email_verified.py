"""accounts: email verified

Revision ID: c18f0verif01
Revises: b17f0queue01
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'c18f0verif01'
down_revision = 'b17f0queue01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
    # Accounts made before addresses were verified keep selling and being paid: they count as
    # verified since they were made, rather than being locked out of what they already do.
    op.execute("UPDATE users SET email_verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('email_verified_at')
