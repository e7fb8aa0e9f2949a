"""jobs: failed jobs kept for admins

Revision ID: e17f0contr01
Revises: a16f0e1ine01
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'e17f0contr01'
down_revision = 'a16f0e1ine01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('failed_jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('args_key', sa.String(length=255), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retried_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retried_by_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['retried_by_id'], ['users.id'], name=op.f('fk_failed_jobs_retried_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_jobs')),
    sa.UniqueConstraint('job', 'args_key', name=op.f('uq_failed_jobs_job_args_key'))
    )


def downgrade() -> None:
    op.drop_table('failed_jobs')
