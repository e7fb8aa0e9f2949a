"""The pages' scripts and styles under names that change with their content.

Every script and style of static/app (and of the API docs page: static/docs, static/vendor)
gets a fingerprint, the start of the SHA-256 of its bytes: `/static/app/store/beat.js` is also served as
`/static/app/store/beat.1a2b3c4d5e6f.js`, cached by browsers for a year without asking again
(a new release has new names). The modules keep importing each other by their plain names;
the page's import map sends each plain name to its fingerprinted one, and modulepreload links
fetch, all at once, every module a page needs before it runs (the static imports of main.js
and of the page's area, found by reading the modules).

Nothing is listed by hand: a module added to static/app is found, fingerprinted and mapped
the next time the table is asked for (the folder is checked on each page load, a few dozen
file stats, and read again only when something changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

STATIC_URL = "/static/"
# The folders of static/ whose files are fingerprinted.
FINGERPRINTED_FOLDERS = ("app", "vendor", "docs")
APP_FOLDER = "app/"  # the pages' modules, named in their import map
FINGERPRINTED_SUFFIXES = (".js", ".css")
DIGEST_LENGTH = 12
# "beat.1a2b3c4d5e6f.js" -> "beat", "1a2b3c4d5e6f", ".js"
FINGERPRINTED_NAME = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[a-z]+)$")
# Static imports with a relative address: `import { a } from "./a.js"`, `export * from "../b.js"`,
# `import "./c.js"`. Dynamic import("...") is left out on purpose: those load when needed.
STATIC_IMPORT = re.compile(r"""(?:\bfrom|^\s*import)\s*["'](\.{1,2}/[^"'\s]+)["']""", re.MULTILINE)


@dataclass
class AssetTable:
    """What static/ holds now: each fingerprinted file's digest and its modules' static imports."""

    snapshot: tuple = ()
    digests: dict[str, str] = field(default_factory=dict)  # "app/store/beat.js" -> digest
    imports: dict[str, list[str]] = field(default_factory=dict)  # "app/main.js" -> ["app/api.js", ...]

    def url(self, name: str) -> str:
        """The fingerprinted address of a file of static/ (its plain one when it has none)."""
        digest = self.digests.get(name)
        if digest is None:
            return STATIC_URL + name
        stem, suffix = os.path.splitext(name)
        return f"{STATIC_URL}{stem}.{digest}{suffix}"

    def import_map(self) -> str:
        """The page's import map: every module's plain address to its fingerprinted one."""
        modules = {STATIC_URL + name: self.url(name) for name in sorted(self.digests)
                   if name.startswith(APP_FOLDER) and name.endswith(".js")}
        return json.dumps({"imports": modules}, separators=(",", ":"))

    def closure(self, *entries: str) -> list[str]:
        """The modules that `entries` load before running, entries first, each once."""
        seen: dict[str, None] = {}
        waiting = list(entries)
        while waiting:
            name = waiting.pop(0)
            if name in seen or name not in self.digests:
                continue
            seen[name] = None
            waiting.extend(self.imports.get(name, []))
        return list(seen)


_lock = threading.Lock()


def asset_table() -> AssetTable:
    """The table for the app's static folder. In development it is read again when a file was added,
    changed or removed; a production host serves the files it started with, so it reads them once
    instead of walking the folder on every request."""
    table = current_app.extensions.get("asset_table")
    if table is not None and current_app.config["ENV_NAME"] == "production":
        return table
    root = Path(current_app.static_folder)
    files = sorted(_fingerprinted_files(root))
    snapshot = tuple((name, stat.st_mtime_ns, stat.st_size) for name, stat in files)
    if table is not None and table.snapshot == snapshot:
        return table
    with _lock:
        table = AssetTable(snapshot=snapshot)
        for name, _stat in files:
            content = (root / name).read_bytes()
            table.digests[name] = hashlib.sha256(content).hexdigest()[:DIGEST_LENGTH]
            if name.endswith(".js"):
                table.imports[name] = _static_imports(name, content.decode("utf-8", "replace"))
        current_app.extensions["asset_table"] = table
    return table


def _fingerprinted_files(root: Path):
    for folder in FINGERPRINTED_FOLDERS:
        for directory, _subfolders, names in os.walk(root / folder):
            for name in names:
                if name.endswith(FINGERPRINTED_SUFFIXES):
                    path = Path(directory) / name
                    yield path.relative_to(root).as_posix(), path.stat()


def _static_imports(name: str, source: str) -> list[str]:
    folder = os.path.dirname(name)
    return [os.path.normpath(os.path.join(folder, address)).replace(os.sep, "/")
            for address in STATIC_IMPORT.findall(source)]


def split_fingerprint(name: str) -> tuple[str, str | None]:
    """("app/store/beat.js", "1a2b3c4d5e6f") for "app/store/beat.1a2b3c4d5e6f.js"; (name, None)
    for a plain name."""
    folder, base = os.path.split(name)
    match = FINGERPRINTED_NAME.match(base)
    if not match:
        return name, None
    plain = match["stem"] + match["suffix"]
    return (f"{folder}/{plain}" if folder else plain), match["digest"]
