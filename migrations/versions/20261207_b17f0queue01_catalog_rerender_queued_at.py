"""catalog: re-renders of previews coalesced per beat

Revision ID: b17f0queue01
Revises: f17f0text001
Create Date: 2026-12-07 14:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db


revision = 'b17f0queue01'
down_revision = 'f17f0text001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('beats', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('rerender_queued_at', marketplace.db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('beats', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('rerender_queued_at')
