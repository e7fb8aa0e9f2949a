"""catalog: beat files kept for the licenses sold with them, and masters waiting to replace

Revision ID: e20f1files01
Revises: h21f1upgrd01
Create Date: 2026-12-07 21:30:00.000000

Every master and stems ZIP stored so far becomes a row of `beat_files`, and every delivered
file of a license names the beat's file it was sold with: no file was ever replaced before,
so that is the beat's current one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import marketplace.db
from marketplace.common.ids import new_id

revision = 'e20f1files01'
down_revision = 'h21f1upgrd01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'beat_files',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('beat_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('audio_format', sa.String(length=8), nullable=True),
        sa.Column('lossless', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('replacement', sa.String(length=16), nullable=True),
        sa.Column('failure_reason', sa.String(length=500), nullable=True),
        sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('master', 'stems')", name=op.f('ck_beat_files_kind')),
        sa.CheckConstraint("replacement IS NULL OR replacement IN ('pending', 'failed')",
                           name=op.f('ck_beat_files_replacement')),
        sa.CheckConstraint("replacement IS NULL OR kind = 'master'",
                           name=op.f('ck_beat_files_only_masters_wait')),
        sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_beat_files_beat_id_beats'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_beat_files')),
        sa.UniqueConstraint('key', name=op.f('uq_beat_files_key')),
    )
    with op.batch_alter_table('beat_files', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_beat_files_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index('uq_beat_files_one_replacement_per_beat', ['beat_id'], unique=True,
                              postgresql_where=sa.text('replacement IS NOT NULL'),
                              sqlite_where=sa.text('replacement IS NOT NULL'))
    # Adding a column only: on SQLite the table is never rebuilt.
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('license_files', sa.Column('source_file_id', sa.String(length=40), nullable=True))
        op.create_foreign_key(op.f('fk_license_files_source_file_id_beat_files'), 'license_files',
                              'beat_files', ['source_file_id'], ['id'])
    else:
        op.execute('ALTER TABLE license_files ADD COLUMN source_file_id VARCHAR(40) '
                   'CONSTRAINT fk_license_files_source_file_id_beat_files REFERENCES beat_files (id)')
    with op.batch_alter_table('license_files', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_license_files_source_file_id'), ['source_file_id'], unique=False)
    _backfill()


def _backfill() -> None:
    """A row for each stored master and stems ZIP, and each license's files pointed at them."""
    bind = op.get_bind()
    beats = sa.table('beats', sa.column('id'), sa.column('created_at'), sa.column('duration_ms'),
                     sa.column('master_key'), sa.column('master_format'), sa.column('master_lossless'),
                     sa.column('master_sha256'), sa.column('master_size'),
                     sa.column('stems_key'), sa.column('stems_sha256'), sa.column('stems_size'))
    files = sa.table('beat_files', sa.column('id'), sa.column('beat_id'), sa.column('kind'), sa.column('key'),
                     sa.column('audio_format'), sa.column('lossless'), sa.column('sha256'), sa.column('size'),
                     sa.column('duration_ms'), sa.column('created_at'))
    license_files = sa.table('license_files', sa.column('license_id'), sa.column('kind'),
                             sa.column('source_file_id'))
    licenses = sa.table('licenses', sa.column('id'), sa.column('beat_id'))
    for beat in bind.execute(sa.select(beats)).mappings():
        stored = {}
        if beat['master_key']:
            stored['master'] = {'key': beat['master_key'], 'audio_format': beat['master_format'],
                                'lossless': bool(beat['master_lossless']),
                                'sha256': beat['master_sha256'] or '',
                                'size': beat['master_size'] or 0, 'duration_ms': beat['duration_ms']}
        if beat['stems_key']:
            stored['stems'] = {'key': beat['stems_key'], 'audio_format': None, 'lossless': False,
                               'sha256': beat['stems_sha256'] or '', 'size': beat['stems_size'] or 0,
                               'duration_ms': None}
        for kind, values in stored.items():
            file_id = new_id('bf')
            bind.execute(sa.insert(files).values(id=file_id, beat_id=beat['id'], kind=kind,
                                                 created_at=beat['created_at'], **values))
            sold = sa.select(licenses.c.id).where(licenses.c.beat_id == beat['id'])
            delivered = ('stems',) if kind == 'stems' else ('mp3', 'wav')
            bind.execute(sa.update(license_files).where(license_files.c.license_id.in_(sold),
                                                        license_files.c.kind.in_(delivered))
                         .values(source_file_id=file_id))


def downgrade() -> None:
    with op.batch_alter_table('license_files', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_license_files_source_file_id'))
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('fk_license_files_source_file_id_beat_files'), 'license_files',
                           type_='foreignkey')
        op.drop_column('license_files', 'source_file_id')
    else:  # SQLite drops a column of a foreign key only by rebuilding the table
        with op.batch_alter_table('license_files', schema=None, recreate='always') as batch_op:
            batch_op.drop_column('source_file_id')
    op.drop_table('beat_files')
