"""CORS: the API serves its own pages (same origin). A browser on another origin gets no
Access-Control-Allow-Origin, unless that origin is named in CORS_ALLOWED_ORIGINS. Tokens
travel in the Authorization header, never in cookies, so credentials are never allowed.

Written here rather than with flask-cors, whose answers differ from these: it answers a
preflight with Flask's automatic 200 and the same configured methods on every path (not
204 with the methods of the path asked about), it echoes the requested headers as the
browser spelled them instead of naming those allowed, and it sends `Vary: Origin` only
when several origins are allowed, so a shared cache could hand one origin's answer to
another."""

from __future__ import annotations

from flask import Response, current_app, request

from marketplace.api.paths import is_api_request

CORS_ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
CORS_EXPOSED_HEADERS = "X-Request-ID, Retry-After, Content-Range, Content-Length, ETag"
CORS_MAX_AGE_SECONDS = "600"


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if not origin or not is_api_request():
        return None
    return origin if origin in current_app.config["CORS_ALLOWED_ORIGINS"] else None


def answer_preflight() -> Response | None:
    """A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin: 204."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    if request.endpoint is None or _allowed_origin() is None:
        return None  # Flask's own OPTIONS answer (or 404), without any CORS header
    # Every method of the path, whichever of its rules the OPTIONS request matched.
    methods = current_app.create_url_adapter(request).allowed_methods()
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(set(methods) - {"OPTIONS", "HEAD"}))
    response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE_SECONDS
    return response


def set_cors_headers(response: Response) -> Response:
    if is_api_request():
        response.vary.add("Origin")  # the answer's headers depend on the caller's origin
    origin = _allowed_origin()
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    return response
