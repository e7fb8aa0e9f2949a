"""The web pages: one HTML shell from static/ whose scripts use the public API only.

Each page's address is served the same shell, so links and reloads work; the script picks
the page from the address. Any other address a browser asks for gets the shell too, with a
404 status, and the script shows the store's "page not found" with a way back. The API, the
static files and downloads keep the JSON error envelope, as does anyone not asking for HTML.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, send_from_directory
from werkzeug.exceptions import NotFound

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


def _shell(status: int = 200) -> Response:
    # Not cached: a new release's scripts are picked up on the next visit. A "not found"
    # answer is never a 304: the status must reach the browser.
    page_found = status == 200
    response = send_from_directory(current_app.static_folder, "index.html", max_age=0, conditional=page_found,
                                   etag=page_found)
    response.status_code = status
    return response


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


@bp.app_errorhandler(NotFound)
def not_found(error: NotFound):
    if _wants_page():
        return _shell(404)
    return handle_http_exception(error)
