"""The web pages: one HTML shell from static/ whose scripts use the public API only.

Each page's address is served the same shell, so links and reloads work; the script picks
the page from the address. Any other address a browser asks for gets the shell too, with a
404 status, and the script shows the store's "page not found" with a way back. The API, the
static files and downloads keep the JSON error envelope, as does anyone not asking for HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import mimetypes
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.security import safe_join

from marketplace.api import content_security_policy
from marketplace.assets import asset_table, split_fingerprint
from marketplace.common.errors import NotFound
from marketplace.errors import handle_http_exception

bp = Blueprint("web", __name__)

# The first segment of every page's address (see static/app/*/index.js for the pages).
PAGE_PREFIXES = ("beats", "cart", "orders", "library", "studio", "admin", "signin", "signup", "licenses", "payouts",
                 "forgot-password", "reset-password", "account", "verify-email", "confirm-email", "unsubscribe",
                 "p", "credit-invitation")
# Addresses that are never pages: their unknown paths answer with the error envelope.
NOT_PAGES = ("/api/", "/static/", "/files/")
ICON_CACHE_SECONDS = 24 * 3600
ROBOTS_CACHE_SECONDS = 3600
# A fingerprinted file never changes: browsers keep it a year without asking again.
IMMUTABLE = "public, max-age=31536000, immutable"
# Plain names, and fingerprints of another release, are asked again each time.
REVALIDATE = "no-cache"

# The script each area's pages start from (main.js loads it when the area is visited; the shell
# preloads it with everything it imports). Sections not named here are the store's.
STORE_ENTRY = "app/store/index.js"
ACCOUNT_SECTIONS = ("account", "signin", "signup", "forgot-password", "reset-password", "verify-email",
                    "confirm-email", "unsubscribe")
AREA_ENTRIES = {"studio": "app/studio/index.js", "payouts": "app/studio/index.js",
                "admin": "app/admin/index.js", **dict.fromkeys(ACCOUNT_SECTIONS, "app/account.js")}
SHELL_ENTRY = "app/main.js"
# Pages for one account, or reached through a private link: kept out of search engines (robots.txt
# keeps crawlers out of the same sections).
PRIVATE_SECTIONS = ("studio", "admin", "account", "library", "orders", "cart", "payouts", "reset-password",
                    "verify-email", "confirm-email", "unsubscribe")
NOINDEX = "noindex, nofollow"


def _section(path: str) -> str:
    return path.strip("/").split("/", 1)[0]


def _private(path: str) -> bool:
    """The studio, admin console, a buyer's own pages, a license's page (checking a license by
    its number stays public), and pages reached from a mailed link."""
    section = _section(path)
    if section == "licenses":
        return not path.startswith("/licenses/verify")
    return section in PRIVATE_SECTIONS


def _page_head(path: str) -> tuple[str, str]:
    """What the shell's head gains for this page: its import map, module preloads and robots
    rule; and the import map's CSP hash (the only inline script)."""
    table = asset_table()
    import_map = table.import_map()
    entry = AREA_ENTRIES.get(_section(path), STORE_ENTRY)
    preloads = "".join(f'\n  <link rel="modulepreload" href="{html.escape(table.url(name))}">'
                       for name in table.closure(SHELL_ENTRY, entry))
    robots = f'\n  <meta name="robots" content="{NOINDEX}">' if _private(path) else ""
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    head = f'<script type="importmap">{import_map}</script>{preloads}{robots}\n  '
    return head, f"'sha256-{digest}'"


def _shell(status: int = 200) -> Response:
    """The page's HTML: static/index.html with its scripts and styles under their fingerprinted
    names. Not cached: a new release's scripts are picked up on the next visit. A "not found"
    answer is never a 304: the status must reach the browser."""
    table = asset_table()
    text = (Path(current_app.static_folder) / "index.html").read_text(encoding="utf-8")
    for name in (SHELL_ENTRY, "app/styles.css"):
        text = text.replace(f'"/static/{name}"', f'"{table.url(name)}"')
    head, import_map_hash = _page_head(request.path)
    text = text.replace('<script type="module"', head + '<script type="module"', 1)
    response = Response(text, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = REVALIDATE
    response.headers["Content-Security-Policy"] = content_security_policy(response, import_map_hash)
    if _private(request.path):
        response.headers["X-Robots-Tag"] = NOINDEX
    if status == 200:
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.app_template_global()
def asset_url(name: str) -> str:
    """A file of static/ under its fingerprinted name, for templates (the API docs page)."""
    return asset_table().url(name)


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@bp.app_template_global()
def api_reference() -> list[dict]:
    """The spec's operations grouped by tag, in the spec's order, for the API docs page to list
    without running any script (the interactive console loads on request)."""
    reference = current_app.extensions.get("api_reference")
    if reference is None:
        spec = current_app.extensions["api"].spec.to_dict()
        tags = {tag["name"]: {"name": tag["name"], "description": tag.get("description", ""),
                              "operations": []} for tag in spec.get("tags", [])}
        for path, item in spec["paths"].items():
            for method in HTTP_METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                tag = (operation.get("tags") or ["other"])[0]
                summary = " ".join(operation.get("summary", "").split())
                tags.setdefault(tag, {"name": tag, "description": "", "operations": []})["operations"].append(
                    {"method": method.upper(), "path": path, "summary": summary})
        reference = [tag for tag in tags.values() if tag["operations"]]
        current_app.extensions["api_reference"] = reference
    return reference


@bp.get("/static/<any(app, vendor, docs):folder>/<path:filename>")
def asset(folder: str, filename: str):
    """A file of static/app, static/vendor or static/docs, by its plain or fingerprinted name. The current
    fingerprint is cached for good; a plain name, or the fingerprint of another release (a page
    left open across a deploy), answers with today's file, to be asked again next time."""
    name, fingerprint = split_fingerprint(f"{folder}/{filename}")
    path = safe_join(current_app.static_folder, name)
    if path is None or not Path(path).is_file():
        raise NotFound("No such file.", code="not_found")
    current = fingerprint is not None and asset_table().digests.get(name) == fingerprint
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = Response(Path(path).read_bytes(), mimetype=mimetype)  # small files, compressed whole
    response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/")
def home():
    return _shell()


_SECTIONS = "any(" + ", ".join(repr(prefix) for prefix in PAGE_PREFIXES) + ")"  # quoted: some have hyphens


@bp.get(f"/<{_SECTIONS}:section>")
@bp.get(f"/<{_SECTIONS}:section>/<path:rest>")
def page(section: str, rest: str = ""):
    return _shell()


@bp.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for it at the root whatever the page names."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=ICON_CACHE_SECONDS)


@bp.get("/robots.txt")
def robots():
    return send_from_directory(current_app.static_folder, "robots.txt", mimetype="text/plain",
                               max_age=ROBOTS_CACHE_SECONDS)


def _wants_page() -> bool:
    """A browser asking for a page: a GET (or HEAD) of an address that could be one, whose
    Accept header prefers HTML to JSON (curl's */* gets JSON)."""
    if request.method not in ("GET", "HEAD") or request.path == "/api" or request.path.startswith(NOT_PAGES):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@bp.app_errorhandler(HttpNotFound)
def not_found(error: HttpNotFound):
    if _wants_page():
        return _shell(404)
    return handle_http_exception(error)
