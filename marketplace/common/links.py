"""Where links to the store point (in answers, mails and contracts): PUBLIC_BASE_URL, which
production requires. Links are never built from a request's Host header once it is set:
whoever asks could point them at another site."""

from __future__ import annotations

from flask import current_app, request

# Where `make run` serves: links made outside a request point there in development, where
# PUBLIC_BASE_URL is unset.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def public_base_url() -> str:
    """The store's address, for links made anywhere (mails, jobs, certificates)."""
    return (current_app.config.get("PUBLIC_BASE_URL") or DEVELOPMENT_BASE_URL).rstrip("/")


def request_base_url() -> str:
    """The store's address for links a request hands out (return pages, mailed links); in
    development without PUBLIC_BASE_URL, the address the request came to."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
