"""The web pages: one HTML shell from static/ whose scripts use the public API only.

Each page's address is served the same shell, so links and reloads work; the script picks
the page from the address. Paths outside these prefixes keep their plain 404.
"""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("web", __name__)

# The first segment of every page's address (see static/app/*/index.js for the pages).
PAGE_PREFIXES = ("beats", "cart", "orders", "library", "studio", "admin", "signin", "signup", "licenses", "payouts",
                 "forgot-password", "reset-password", "account", "verify-email", "confirm-email", "p")


def _shell():
    # Not cached: a new release's scripts are picked up on the next visit.
    return send_from_directory(current_app.static_folder, "index.html", max_age=0)


@bp.get("/")
def home():
    return _shell()


_SECTIONS = "any(" + ", ".join(repr(prefix) for prefix in PAGE_PREFIXES) + ")"  # quoted: some have hyphens


@bp.get(f"/<{_SECTIONS}:section>")
@bp.get(f"/<{_SECTIONS}:section>/<path:rest>")
def page(section: str, rest: str = ""):
    return _shell()
