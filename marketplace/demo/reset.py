"""Starting the demo store over: every row and every stored file removed, the schema kept.

For development only (the command refuses elsewhere): it is how a store that was played with
(exclusives sold, beats archived, accounts suspended) becomes the fresh demo store again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from marketplace.db import db
from marketplace.models import metadata


def start_over() -> str:
    """Remove every row, the local files and the mail outbox; say what was removed."""
    tables = wipe_all_rows()
    files = _empty_folder(Path(current_app.config["STORAGE_LOCAL_ROOT"])) \
        if current_app.config["STORAGE_BACKEND"] == "local" else None
    _empty_folder(Path(current_app.config["MAIL_OUTBOX_DIR"]))
    kept = "" if files is not None else "; files in the S3 bucket are left as they are"
    return f"{tables} tables emptied, {files or 0} stored files removed{kept}"


def wipe_all_rows() -> int:
    """Empty every table of the app. Append-only tables (ledgers, the audit log) refuse
    deletes row by row, on PostgreSQL by trigger; TRUNCATE is a statement of its own, which
    is what starting over is."""
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    return len(tables)


def _empty_folder(folder: Path) -> int:
    """Remove what is inside the folder (not the folder: the app holds it open); the count of
    files removed."""
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.rglob("*") if path.is_file())
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    return count
