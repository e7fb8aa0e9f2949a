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
import json
import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from flask import Blueprint, Response, current_app, g, request, send_from_directory
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.security import safe_join

from marketplace.api import content_security_policy
from marketplace.assets import asset_table, split_fingerprint
from marketplace.common.errors import NotFound
from marketplace.errors import handle_http_exception
from marketplace.observability import REQUEST_ID_HEADER

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
# Public store pages whose first content comes with the page: the API answers their script asks for
# first, as a visitor who is not signed in gets them, in a JSON data block (never run as a script).
# The page then paints without a round trip to the API. The limit is PAGE_SIZE of store/browse.js.
BROWSE_FIRST_REQUESTS = ("/api/v1/beats?limit=24", "/api/v1/catalog/vocabulary")
BEAT_PAGE = re.compile(r"/beats/(?P<beat_id>[^/]+)/?")
PROFILE_PAGE = re.compile(r"/p/(?P<handle>[^/]+)/?")
# The cover renditions pages pick from, and the widths they show them at (as cover() and
# HERO_SIZES / CARD_SIZES of store/common.js): the largest paint is preloaded with the page.
COVER_WIDTHS = (300, 600)
HERO_COVER_SIZES = "20rem"
CARD_COVER_SIZES = "(min-width: 40rem) 18rem, 7rem"


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


def _first_requests(path: str) -> list[str]:
    """The API addresses a public page's script asks for before it paints, when it has no query."""
    if request.args:
        return []
    if path in ("/", "/beats", "/beats/"):
        return list(BROWSE_FIRST_REQUESTS)
    if found := BEAT_PAGE.fullmatch(path):
        return [f"/api/v1/beats/{quote(found['beat_id'], safe='')}"]
    if found := PROFILE_PAGE.fullmatch(path):
        return [f"/api/v1/profiles/{quote(found['handle'], safe='')}"]
    return []


def _anonymous_answer(address: str) -> Any | None:
    """The API's answer to a GET by a visitor who is not signed in, or None if it is not a 200.
    Asked inside the app, in a context of its own (its own database session and `g`), logged
    under the page's request id."""
    app = current_app._get_current_object()
    headers = {"Accept": "application/json", REQUEST_ID_HEADER: g.get("request_id", "")}
    with app.app_context(), app.test_request_context(address, headers=headers):
        response = app.full_dispatch_request()
        if response.status_code != 200 or not response.is_json:
            return None
        return response.get_json()


def _first_answers(path: str) -> dict[str, Any]:
    """Each first request's answer, keyed as the page's script asks (query sorted)."""
    answers = {}
    for address in _first_requests(path):
        answer = _anonymous_answer(address)
        if answer is not None:
            answers[_answer_key(address)] = answer
    return answers


def _answer_key(address: str) -> str:
    path, _, query = address.partition("?")
    params = sorted(parse_qsl(query, keep_blank_values=True))
    return f"{path}?{urlencode(params)}" if params else path


def _data_block(answers: dict[str, Any]) -> str:
    """The answers as a JSON data block; "<" escaped so no text in them can end the block."""
    text = json.dumps(answers, separators=(",", ":")).replace("<", "\\u003c")
    return f'\n  <script type="application/json" id="first-answers">{text}</script>'


def _cover_preload(answers: dict[str, Any]) -> str:
    """A preload of the cover the page paints largest: the beat's, or the first card's."""
    first = next(iter(answers.values()), None)
    if isinstance(first, dict) and "items" in first:
        beat, sizes = (first["items"] or [None])[0], CARD_COVER_SIZES
    else:
        beat, sizes = first, HERO_COVER_SIZES
    if not isinstance(beat, dict) or not beat.get("cover_url"):
        return ""
    srcset = ", ".join(f"{_cover_at(beat['cover_url'], width)} {width}w" for width in COVER_WIDTHS)
    return (f'\n  <link rel="preload" as="image" imagesrcset="{html.escape(srcset)}" '
            f'imagesizes="{html.escape(sizes)}" fetchpriority="high">')


def _cover_at(address: str, width: int) -> str:
    path, _, query = address.partition("?")
    params = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != "size"]
    return f"{path}?{urlencode([*params, ('size', str(width))])}"


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
    answers = _first_answers(request.path) if status == 200 else {}
    if answers:
        text = text.replace("\n</head>", _cover_preload(answers) + _data_block(answers) + "\n</head>", 1)
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
