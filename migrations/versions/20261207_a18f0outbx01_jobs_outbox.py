"""jobs: the outbox, one row per queued job

Revision ID: a18f0outbx01
Revises: b18f0mprefs1
Create Date: 2026-12-07 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'a18f0outbx01'
down_revision = 'b18f0mprefs1'
branch_labels = None
depends_on = None

WAITING = "state IN ('pending', 'running')"


def upgrade() -> None:
    op.create_table('outbox_jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('finished_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_outbox_jobs_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_jobs')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_jobs_dedupe_key'))
    )
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_jobs_finished_at'), ['finished_at'], unique=False)
        batch_op.create_index('ix_outbox_jobs_waiting', ['dispatched_at'], unique=False,
                              postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade() -> None:
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_jobs_waiting', postgresql_where=sa.text(WAITING),
                            sqlite_where=sa.text(WAITING))
        batch_op.drop_index(batch_op.f('ix_outbox_jobs_finished_at'))
    op.drop_table('outbox_jobs')
