"""Pieces of the test suite that need no pytest, so the benchmarks can use them too."""

from __future__ import annotations

import ast
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from config import normalise_database_url


class PostgresDatabases:
    """Creates uniquely named databases on the server of TEST_DATABASE_URL, and drops them."""

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(normalise_database_url(server_url))
        self._admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        name = f"mkt_test_{secrets.token_hex(6)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def production_signing_keys() -> str:
    """A keys folder as production wants it: one Ed25519 private key, readable by its owner alone."""
    from joserfc.jwk import OKPKey

    from marketplace.licensing.keys import write_private_key

    folder = Path(tempfile.mkdtemp(prefix="marketplace-test-production-keys-"))
    write_private_key(folder, OKPKey.generate_key("Ed25519"))
    return str(folder)


def parse_python(path: Path) -> ast.Module:
    """A project file's syntax tree. CPython 3.11 checks the depth of the tree it builds
    against the interpreter-wide recursion limit, which a library in another thread of the
    suite may change meanwhile ("AST constructor recursion depth mismatch"): that failure says
    nothing of the file, so it is parsed again."""
    source = path.read_text()
    try:
        return ast.parse(source, str(path))
    except SystemError:
        return ast.parse(source, str(path))
