"""collaborators: credit invitations, split sheet versions, held shares in the ledger

Revision ID: a19f1cnsnt01
Revises: d20f1plays01
Create Date: 2026-12-07 21:30:00.000000

A credit names another account only once that person accepted an invitation. Credits linked
to an account before consent existed are kept as accepted: their holders were being paid and
credited, and taking that away would send their money to the owner.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = 'a19f1cnsnt01'
down_revision = 'd20f1plays01'
branch_labels = None
depends_on = None

OLD_KINDS = ("'sale', 'platform_fee', 'refund', 'transfer', 'transfer_reversal', 'dispute_hold', "
             "'dispute_release'")
NEW_KINDS = OLD_KINDS + ", 'held', 'held_release'"
CREDIT_STATUSES = "'name_only', 'accepted', 'pending', 'declined', 'expired'"


def upgrade() -> None:
    op.create_table(
        'credit_invitations',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('invited_by_id', sa.String(length=40), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('email_key', sa.String(length=320), nullable=True),
        sa.Column('invitee_id', sa.String(length=40), nullable=True),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('profit_share_bps', sa.Integer(), nullable=True),
        sa.Column('publishing_share_bps', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('accepted_by_id', sa.String(length=40), nullable=True),
        sa.Column('replaces_id', sa.String(length=40), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'expired', 'cancelled')",
                           name=op.f('ck_credit_invitations_status')),
        sa.CheckConstraint('email_key IS NOT NULL OR invitee_id IS NOT NULL',
                           name=op.f('ck_credit_invitations_has_invitee')),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name=op.f('ck_credit_invitations_decided_once')),
        sa.CheckConstraint("status <> 'accepted' OR accepted_by_id IS NOT NULL",
                           name=op.f('ck_credit_invitations_accepted_by_someone')),
        sa.CheckConstraint('profit_share_bps IS NULL OR profit_share_bps BETWEEN 0 AND 10000',
                           name=op.f('ck_credit_invitations_profit_share_range')),
        sa.CheckConstraint('publishing_share_bps IS NULL OR publishing_share_bps BETWEEN 0 AND 10000',
                           name=op.f('ck_credit_invitations_publishing_share_range')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_credit_invitations_beat_id_beats'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'],
                                name=op.f('fk_credit_invitations_invited_by_id_users')),
        sa.ForeignKeyConstraint(['invitee_id'], ['users.id'], name=op.f('fk_credit_invitations_invitee_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'],
                                name=op.f('fk_credit_invitations_accepted_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['replaces_id'], ['credit_invitations.id'],
                                name=op.f('fk_credit_invitations_replaces_id_credit_invitations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_credit_invitations_token_hash')),
    )
    op.create_index(op.f('ix_credit_invitations_beat_id'), 'credit_invitations', ['beat_id'])
    op.create_index(op.f('ix_credit_invitations_email_key'), 'credit_invitations', ['email_key'])
    op.create_index(op.f('ix_credit_invitations_invitee_id'), 'credit_invitations', ['invitee_id'])
    op.create_index('ix_credit_invitations_pending_expiry', 'credit_invitations', ['expires_at'],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.create_table(
        'split_versions',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('entries', sa.JSON(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.String(length=40), nullable=True),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('in_force_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'in_force', 'superseded', 'withdrawn')",
                           name=op.f('ck_split_versions_status')),
        sa.CheckConstraint('number >= 1', name=op.f('ck_split_versions_number_positive')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_split_versions_beat_id_beats'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_split_versions_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_split_versions')),
        sa.UniqueConstraint('beat_id', 'number', name=op.f('uq_split_versions_beat_id_number')),
    )
    op.create_index(op.f('ix_split_versions_beat_id'), 'split_versions', ['beat_id'])
    op.create_index('uq_split_versions_one_in_force', 'split_versions', ['beat_id'], unique=True,
                    postgresql_where=sa.text("status = 'in_force'"), sqlite_where=sa.text("status = 'in_force'"))

    op.create_table(
        'split_acceptances',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('version_id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_split_acceptances_user_id_users')),
        sa.ForeignKeyConstraint(['version_id'], ['split_versions.id'],
                                name=op.f('fk_split_acceptances_version_id_split_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_split_acceptances')),
        sa.UniqueConstraint('version_id', 'user_id', name=op.f('uq_split_acceptances_version_id_user_id')),
    )
    op.create_index(op.f('ix_split_acceptances_user_id'), 'split_acceptances', ['user_id'])
    op.create_index(op.f('ix_split_acceptances_version_id'), 'split_acceptances', ['version_id'])

    # beat_credits is rebuilt on SQLite to take its new checks (no trigger lives on it).
    with op.batch_alter_table('beat_credits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='name_only', nullable=False))
        batch_op.add_column(sa.Column('invitation_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('pro', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('ipi', sa.String(length=15), nullable=True))
        batch_op.create_index(batch_op.f('ix_beat_credits_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_beat_credits_invitation_id_credit_invitations'),
                                    'credit_invitations', ['invitation_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE beat_credits SET status = 'accepted' WHERE user_id IS NOT NULL")
    with op.batch_alter_table('beat_credits', schema=None) as batch_op:
        batch_op.create_check_constraint('status', f"status IN ({CREDIT_STATUSES})")
        batch_op.create_check_constraint('linked_only_when_accepted', "user_id IS NULL OR status = 'accepted'")
        batch_op.create_check_constraint('pending_has_invitation',
                                         "status <> 'pending' OR invitation_id IS NOT NULL")

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_invitation_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_entries_credit_invitation_id'), ['credit_invitation_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_credit_invitation_id_credit_invitations'),
                                    'credit_invitations', ['credit_invitation_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_ledger_entries_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({NEW_KINDS})")

    # licenses is never rebuilt on SQLite: a rebuild would lose its partial indexes and turn its
    # column references into table constraints that a later downgrade cannot drop.
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('licenses', sa.Column('split_version_id', sa.String(length=40), nullable=True))
        op.create_foreign_key('fk_licenses_split_version_id_split_versions', 'licenses', 'split_versions',
                              ['split_version_id'], ['id'])
    else:
        op.execute('ALTER TABLE licenses ADD COLUMN split_version_id VARCHAR(40) '
                   'CONSTRAINT fk_licenses_split_version_id_split_versions REFERENCES split_versions (id)')
    op.create_index('ix_licenses_split_version_id', 'licenses', ['split_version_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_licenses_split_version_id', table_name='licenses')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('fk_licenses_split_version_id_split_versions', 'licenses', type_='foreignkey')
    op.drop_column('licenses', 'split_version_id')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ledger_entries_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({OLD_KINDS})")
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_credit_invitation_id_credit_invitations'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_credit_invitation_id'))
        batch_op.drop_column('reason')
        batch_op.drop_column('credit_invitation_id')
    with op.batch_alter_table('beat_credits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_beat_credits_pending_has_invitation'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_beat_credits_linked_only_when_accepted'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_beat_credits_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_beat_credits_invitation_id_credit_invitations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_beat_credits_invitation_id'))
        batch_op.drop_column('ipi')
        batch_op.drop_column('pro')
        batch_op.drop_column('invitation_id')
        batch_op.drop_column('status')
    op.drop_table('split_acceptances')
    op.drop_index('uq_split_versions_one_in_force', table_name='split_versions',
                  postgresql_where=sa.text("status = 'in_force'"), sqlite_where=sa.text("status = 'in_force'"))
    op.drop_table('split_versions')
    op.drop_index('ix_credit_invitations_pending_expiry', table_name='credit_invitations',
                  postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.drop_table('credit_invitations')
