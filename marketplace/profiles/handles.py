"""Public handles (`@name`): the rules a handle follows, and the words nobody may claim.

Handles are ASCII letters, digits, `_` and `.`. Display names take any script and emoji, but a
handle is an address people type and read aloud: with every script allowed, a Cyrillic "а"
would make a second `@kasra` that looks the same as the first, which NFKC does not fold
together. Handles are unique whatever their case: the key under the unique index is the
handle in lower case, and the handle is kept as its owner wrote it for display.
"""

from __future__ import annotations

import re

from marketplace.web import PAGE_PREFIXES

HANDLE_MIN, HANDLE_MAX = 3, 30
_HANDLE = re.compile(r"[A-Za-z0-9_.]+")

# Words that name the platform, its staff or its pages, so nobody can pose as them; the first
# segment of every page's address too, so a handle never looks like one of the store's pages.
RESERVED_HANDLES = frozenset({
    "admin", "administrator", "api", "studio", "store", "support", "help", "root", "system", "beats",
    "p", "me", "moderator", "mod", "staff", "team", "official", "security", "billing", "payments",
    "payouts", "checkout", "settings", "profile", "profiles", "login", "logout", "signin", "signup",
    "register", "account", "accounts", "static", "www", "mail", "email", "null", "undefined", "none",
    "anonymous", "everyone", "marketplace", "legal", "terms", "privacy", "abuse", "contact", "docs",
    "status", "licenses", "library", "orders", "cart", *PAGE_PREFIXES,
})


class HandleRefused(ValueError):
    """A handle that breaks a rule; the message says which, in words."""


def handle_key(handle: str) -> str:
    return handle.lower()


def check_handle(written: str) -> str:
    """The handle as it will be stored (a leading `@` dropped), or HandleRefused saying why not."""
    handle = written.strip().removeprefix("@")
    if not HANDLE_MIN <= len(handle) <= HANDLE_MAX:
        raise HandleRefused(f"A handle is {HANDLE_MIN} to {HANDLE_MAX} characters long; "
                            f"this one has {len(handle)}.")
    if not _HANDLE.fullmatch(handle):
        raise HandleRefused("A handle may hold only letters A to Z (without accents), digits, "
                            "underscores and dots.")
    if handle.startswith(".") or handle.endswith("."):
        raise HandleRefused("A handle cannot start or end with a dot.")
    if ".." in handle:
        raise HandleRefused("A handle cannot hold two dots in a row.")
    # Dots and underscores do not make a reserved word another one: "_admin_" poses as "admin".
    if handle_key(handle).replace(".", "").replace("_", "") in RESERVED_HANDLES:
        raise HandleRefused(f"@{handle} is reserved for the store itself; choose another handle.")
    return handle
