"""catalog: genre and mood in each beat's search document

Revision ID: e20f0search1
Revises: a18f0outbx01
Create Date: 2026-12-07 18:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = 'e20f0search1'
down_revision = 'a18f0outbx01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Text search matches a beat's genre and mood as words from now on. Documents written
    # before hold the title, tags and names: the genre and mood are added at their end (the
    # order of words does not matter to the search; the next edit of a beat writes it anew).
    # The full-text index follows: a generated column on PostgreSQL, a trigger on SQLite.
    op.execute("UPDATE beats SET search_document = search_document"
               " || coalesce(' ' || genre, '') || coalesce(' ' || mood, '')"
               " WHERE genre IS NOT NULL OR mood IS NOT NULL")


def downgrade() -> None:
    # The extra words only widen what a search finds, and the code before this revision
    # rewrites a beat's document without them at its next edit: nothing to undo.
    pass
