"""moderation: reports, strikes, beat restrictions, audit log

Revision ID: 17997cf58975
Revises: 5ccb9eedb467
Create Date: 2026-11-25 16:00:24.825564
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db


revision = '17997cf58975'
down_revision = '5ccb9eedb467'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=40), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("actor_kind IN ('admin', 'system', 'cli')", name=op.f('ck_audit_log_actor_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)

    op.create_table('strikes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.String(length=40), nullable=True),
    sa.Column('lifted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.String(length=40), nullable=True),
    sa.Column('lift_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_strikes_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_strikes_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strikes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strikes'))
    )
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strikes_user_id'), ['user_id'], unique=False)

    op.create_table('beat_restrictions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('beat_id', sa.String(length=40), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('restore_to', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.String(length=40), nullable=True),
    sa.Column('rejected_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("cause IN ('takedown', 'suspension', 'review')", name=op.f('ck_beat_restrictions_cause')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_beat_restrictions_beat_id_beats')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_beat_restrictions_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_beat_restrictions_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beat_restrictions'))
    )
    with op.batch_alter_table('beat_restrictions', schema=None) as batch_op:
        batch_op.create_index('ix_beat_restrictions_active', ['beat_id', 'cause'], unique=False, postgresql_where=sa.text('lifted_at IS NULL'), sqlite_where=sa.text('lifted_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_beat_restrictions_beat_id'), ['beat_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('beat_id', sa.String(length=40), nullable=False),
    sa.Column('reporter_id', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.String(length=40), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.CheckConstraint("reason IN ('copyright', 'uncleared_sample', 'stolen_beat', 'offensive', 'spam', 'fraud', 'other')", name=op.f('ck_reports_reason')),
    sa.CheckConstraint("status IN ('open', 'dismissed', 'taken_down')", name=op.f('ck_reports_status')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_reports_beat_id_beats')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_reports_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_reports_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('uq_reports_one_open_per_reporter_and_beat', ['beat_id', 'reporter_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    if op.get_bind().dialect.name == "postgresql":
        # The audit log is append-only whatever the client: no UPDATE or DELETE gets through.
        op.execute("""
            CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
        """)
        op.execute("""
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_refuse_change()")
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('uq_reports_one_open_per_reporter_and_beat', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_reports_status_created_at')
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_reports_beat_id'))

    op.drop_table('reports')
    with op.batch_alter_table('beat_restrictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beat_restrictions_beat_id'))
        batch_op.drop_index('ix_beat_restrictions_active', postgresql_where=sa.text('lifted_at IS NULL'), sqlite_where=sa.text('lifted_at IS NULL'))

    op.drop_table('beat_restrictions')
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strikes_user_id'))

    op.drop_table('strikes')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
