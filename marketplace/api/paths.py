"""Where the API lives: every endpoint is under API_PREFIX, its reference at DOCS_PATH."""

from __future__ import annotations

from flask import request

API_PREFIX = "/api/v1"
DOCS_PATH = API_PREFIX + "/docs"


def is_api_request() -> bool:
    """The request is for the API (not a web page, a static file or a signed file link)."""
    return request.path.startswith(API_PREFIX)
