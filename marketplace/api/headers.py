"""The security headers every answer carries: the content security policy of its kind
(web page, API docs, API answer), and the headers that forbid sniffing, framing, referrers
and powerful browser features."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Response, current_app, request

from marketplace.api.paths import API_PREFIX, DOCS_PATH, is_api_request
from marketplace.storage.service import storage

# The web pages (static/) load scripts, styles and media from this origin only; covers
# and previews may also come from blob: and data: URLs the scripts make, and from the
# storage's origin when files are stored in S3 (previews and covers redirect there).
# Their one inline script, the import map naming each module's fingerprinted file, is allowed by its hash.
PAGE_POLICY = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'; "
               "img-src 'self' data: blob:{files}; media-src 'self' blob:{files}; connect-src 'self'{files}; "
               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# API answers are data, never documents to render.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI (vendored): an inline script on its page would be allowed by its hash (ours has
# none); its stylesheet draws icons from data: URLs.
DOCS_POLICY = ("default-src 'self'; script-src 'self'{script_hashes}; style-src 'self'; "
               "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
               "frame-ancestors 'none'; form-action 'self'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _inline_script_hashes(html: bytes) -> str:
    digests = (hashlib.sha256(script).digest() for script in _INLINE_SCRIPT.findall(html))
    return "".join(f" 'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


def content_security_policy(response: Response, script_hashes: str = "") -> str:
    if request.path == DOCS_PATH and response.mimetype == "text/html":
        return DOCS_POLICY.format(script_hashes=_inline_script_hashes(response.get_data()))
    if is_api_request():
        return API_POLICY
    origin = _file_origin()
    return PAGE_POLICY.format(files=f" {origin}" if origin else "",
                              scripts=f" {script_hashes}" if script_hashes else "")


def _file_origin() -> str | None:
    """The origin of presigned S3 links, found once by signing a link (no request is made)."""
    extensions = current_app.extensions
    if "file_origin" not in extensions:
        if current_app.config["STORAGE_BACKEND"] != "s3":
            extensions["file_origin"] = None
        else:
            try:
                link = urlsplit(storage().signed_url("origin-probe", 60))
            except Exception:  # no credentials yet: same-origin for now, asked again next time
                return None
            extensions["file_origin"] = f"{link.scheme}://{link.netloc}"
    return extensions["file_origin"]


def _served_over_https() -> bool:
    # Production always runs behind https (PUBLIC_BASE_URL must be https:// there).
    return request.is_secure or current_app.config["ENV_NAME"] == "production"


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Content-Security-Policy", content_security_policy(response))
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _served_over_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    if is_api_request() and "Cache-Control" not in headers:
        # Answers about a signed-in user (and tokens) must not sit in shared caches.
        if "Authorization" in request.headers or request.path.startswith(API_PREFIX + "/auth/"):
            headers["Cache-Control"] = "no-store"
    return response
