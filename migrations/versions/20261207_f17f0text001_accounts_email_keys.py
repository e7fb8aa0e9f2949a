"""accounts: one mailbox, one account (email keys, and the collisions found)

Revision ID: f17f0text001
Revises: c16f0paymnt1
Create Date: 2026-12-07 15:00:00.000000

Addresses are stored NFKC-normalised and case-folded from now on, with a key under a unique
index for spellings a person cannot tell apart. Existing accounts are brought to that form;
accounts whose addresses turn out to be the same mailbox are not merged here (each may hold
purchases, beats and earnings): the oldest keeps the key, the others are written to
email_collisions, which `flask users collisions` lists for an admin to merge.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import marketplace.db
from marketplace.accounts.emails import email_key, normalise_email
from marketplace.common.ids import new_id

revision = 'f17f0text001'
down_revision = 'c16f0paymnt1'
branch_labels = None
depends_on = None

def upgrade() -> None:
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=320), nullable=True))
    op.create_table(
        'email_collisions',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('email_key', sa.String(length=320), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('kept_user_id', sa.String(length=40), nullable=False),
        sa.Column('found_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['kept_user_id'], ['users.id'],
                                name=op.f('fk_email_collisions_kept_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_email_collisions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_collisions')),
        sa.UniqueConstraint('user_id', name=op.f('uq_email_collisions_user_id')),
    )
    op.create_index(op.f('ix_email_collisions_email_key'), 'email_collisions', ['email_key'], unique=False)
    _key_existing_accounts()
    op.create_index('uq_users_email_key', 'users', ['email_key'], unique=True)


def _key_existing_accounts() -> None:
    """The oldest account of each mailbox keeps it; every later one is reported."""
    connection = op.get_bind()
    users = sa.table('users', sa.column('id'), sa.column('email'), sa.column('email_key'),
                     sa.column('created_at'))
    collisions = sa.table('email_collisions', sa.column('id'), sa.column('email_key'), sa.column('user_id'),
                          sa.column('kept_user_id'), sa.column('found_at', marketplace.db.UTCDateTime()))
    now = dt.datetime.now(dt.UTC)
    kept: dict[str, str] = {}
    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.created_at, users.c.id))
    for user_id, email in list(rows):
        key = email_key(email)
        if key in kept:
            connection.execute(collisions.insert().values(id=new_id("ecl"), email_key=key, user_id=user_id,
                                                          kept_user_id=kept[key], found_at=now))
            continue
        kept[key] = user_id
        # Alone with its key, the account can take the normalised spelling: no other has it.
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(email_key=key, email=normalise_email(email)))


def downgrade() -> None:
    op.drop_index('uq_users_email_key', table_name='users')
    op.drop_index(op.f('ix_email_collisions_email_key'), table_name='email_collisions')
    op.drop_table('email_collisions')
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('email_key')
