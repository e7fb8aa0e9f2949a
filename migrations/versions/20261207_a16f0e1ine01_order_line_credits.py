"""checkout: credits frozen on each order line

Revision ID: a16f0e1ine01
Revises: c18f0sessn01
Create Date: 2026-12-07 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a16f0e1ine01'
down_revision = 'c18f0sessn01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Lines of earlier orders have none: their licenses take the beat's credits when issued.
    with op.batch_alter_table('order_items', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('credits', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_column('credits')
