"""The REST API's shared conventions: the flask-smorest Api, the documented error envelope,
bearer security, and the request guards (body size, media type) every endpoint relies on."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar
from urllib.parse import urlsplit

import marshmallow as ma
import orjson
from flask import Flask, Request, Response, current_app, jsonify, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.fields import Upload
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict

from marketplace.common.errors import AppError, NotFound, ValidationFailed
from marketplace.storage.service import storage

API_PREFIX = "/api/v1"
BEARER_SECURITY = [{"bearerAuth": []}]

F = TypeVar("F", bound=Callable[..., Any])


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable snake_case code"})
    message = ma.fields.String(required=True, metadata={"description": "for humans"})
    details = ma.fields.Dict(required=True, metadata={"description": "per-field messages or context"})


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class MarketplaceApi(Api):
    """flask-smorest's Api, documenting our envelope and leaving error handling to errors.py."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self) -> None:
        """Errors are answered by marketplace.errors, for API and non-API paths alike."""


ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON (malformed_json)",
    401: "No valid bearer token (authentication_required, invalid_token)",
    403: "Not allowed (forbidden, role_required, account_suspended, ...)",
    404: "Not found",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "The body is too large (payload_too_large)",
    415: "Wrong media type (unsupported_media_type)",
    422: "Invalid fields (validation_failed), details per field",
    429: "Too many requests (rate_limited); retry after the Retry-After seconds",
    502: "The payment provider refused the request (payment_provider_error)",
    503: "A service the request needs is unavailable",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def document_errors(*statuses: int) -> Callable[[F], F]:
    """Document error answers of a view, each with the error envelope (once per status)."""

    def decorator(view: F) -> F:
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            if status in responses:
                continue
            doc = {"schema": ErrorEnvelopeSchema(), "description": ERROR_DESCRIPTIONS[status],
                   "content_type": None}
            if status == 429:
                doc["headers"] = _RETRY_AFTER
            responses[status] = [doc]
        view._apidoc = apidoc  # type: ignore[attr-defined]
        return view

    return decorator


def _unstorable(text: str) -> bool:
    """NUL and unpaired surrogates cannot be stored (PostgreSQL, UTF-8) or hashed."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_text(value: Any, path: str) -> None:
    if isinstance(value, str):
        if _unstorable(value):
            raise ValidationFailed(details={path or "_body": [
                "Text must not contain NUL characters or unpaired surrogates."]})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path)
            _check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}.{index}" if path else str(index))


MAX_FILENAME_CHARS = 255


def _spooled_size(upload: FileStorage) -> int:
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _checked_files(files: MultiDict) -> MultiDict:
    """The uploaded files, without the empty nameless parts browsers send for file inputs left
    empty. A file name no file should have (control characters, longer than any file system
    allows) or a file with no bytes is refused, naming its form field."""
    kept = MultiDict()
    for field, upload in files.items(multi=True):
        name, size = upload.filename or "", _spooled_size(upload)
        if not name and size == 0:
            continue  # no file chosen
        if len(name) > MAX_FILENAME_CHARS or _unstorable(name) \
                or any(unicodedata.category(char) == "Cc" for char in name):
            raise AppError(f"File names must be at most {MAX_FILENAME_CHARS} characters long, without "
                           "control characters (line breaks, NUL, escape codes). Rename the file and "
                           "try again.",
                           code="invalid_filename", status=422, details={"field": field})
        if size == 0:
            raise AppError("The file is empty.", code="empty_file", status=422, details={"field": field})
        kept.add(field, upload)
    return kept


class SafeParser(FlaskParser):
    """webargs' Flask parser, made to answer 4xx for bodies that would otherwise crash:
    nesting deep enough to exhaust the stack, integers too long to convert, text the database
    cannot store, file names no file should have and text sent where a file belongs. It also
    reads multipart bodies as one location, fields and files together ("form_and_files"), so
    an upload is one documented request body."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def _raw_load_json(self, req: Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except (RecursionError, ValueError) as error:
            raise json.JSONDecodeError(str(error), "<body>", 0) from None  # a non-empty doc: not "missing"
        _check_text(data, "")
        return data

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        _check_text(req.args.to_dict(flat=False), "")
        return super().load_querystring(req, schema)

    def load_form(self, req: Request, schema: ma.Schema) -> Any:
        _check_text(req.form.to_dict(flat=False), "")
        return super().load_form(req, schema)

    def load_files(self, req: Request, schema: ma.Schema) -> Any:
        return self._makeproxy(_checked_files(req.files), schema)

    def load_form_and_files(self, req: Request, schema: ma.Schema) -> Any:
        _check_text(req.form.to_dict(flat=False), "")
        file_keys = [field.data_key or name for name, field in schema.fields.items()
                     if isinstance(field, Upload)]
        as_text = {key: ["Send a file here, not text."] for key in file_keys if key in req.form}
        if as_text:  # e.g. a part whose broken header lost its file name
            raise ValidationFailed(details=as_text)
        return self._makeproxy(CombinedMultiDict([req.form, _checked_files(req.files)]), schema)


_BODY_ERRORS = {"json": (400, 413, 415), "form": (413, 415), "files": (413, 415), "form_and_files": (413, 415)}


class Blueprint(SmorestBlueprint):
    """The API's blueprints: the safe parser, and body errors documented with each body."""

    ARGUMENTS_PARSER = SafeParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}

    def arguments(self, schema, *, location: str = "json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        statuses = _BODY_ERRORS.get(location, ())

        def decorator(view):
            return document_errors(*statuses)(parse(view))

        return decorator


def document(payload: Any, status: int = 200) -> Response:
    """Answer with an already-built JSON document; the view's @blp.response still documents it."""
    response = jsonify(payload)
    response.status_code = status
    return response


def large_document(payload: Any, status: int = 200) -> Response:
    """Like `document`, for big answers on hot paths (a page of 100 beats is some 200 KB):
    orjson encodes several times faster than the json module. The payload holds plain JSON
    values only."""
    return json_answer(orjson.dumps(payload), status)


def json_answer(body: bytes, status: int = 200) -> Response:
    """Answer with a JSON document already encoded (as a database can build it)."""
    return current_app.response_class(body, status=status, mimetype="application/json")


def accepts_multipart(view: F) -> F:
    """Mark a view that takes multipart/form-data (uploads) instead of a JSON body."""
    view._accepts_multipart = True  # type: ignore[attr-defined]
    return view


def accepts_one_click_form(view: F) -> F:
    """Mark a view that mail programs post to from a List-Unsubscribe header: their body is the
    form `List-Unsubscribe=One-Click` (RFC 8058), which the view does not read."""
    view._accepts_one_click_form = True  # type: ignore[attr-defined]
    return view


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _view_accepts_multipart() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "_accepts_multipart", False))


def _has_body() -> bool:
    if request.content_length is not None:
        return request.content_length > 0
    # Without Content-Length, only a chunked request carries a body (the header's case varies).
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def guard_request_body() -> None:
    """Refuse bodies of the wrong type or size before any view reads them."""
    if not request.path.startswith(API_PREFIX) or request.method not in _BODY_METHODS:
        return
    if request.endpoint is None:
        return  # unknown routes answer 404/405
    multipart = _view_accepts_multipart()
    if not multipart:
        # JSON bodies are small: a 10 MB JSON document is an attack or a bug.
        limit = current_app.config["MAX_JSON_BODY_BYTES"]
        request.max_content_length = limit
        if request.content_length and request.content_length > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")
    if not _has_body():
        return
    mimetype = request.mimetype
    if multipart and mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send this request as multipart/form-data.",
                                   details={"expected": "multipart/form-data", "got": mimetype})
    one_click = getattr(current_app.view_functions.get(request.endpoint), "_accepts_one_click_form", False)
    if one_click and mimetype == "application/x-www-form-urlencoded":
        return
    if not multipart and not request.is_json:
        raise UnsupportedMediaType("Send this request as application/json.",
                                   details={"expected": "application/json", "got": mimetype})
    if not multipart and request.content_length is None:
        limit = current_app.config["MAX_JSON_BODY_BYTES"]
        if len(request.get_data(cache=True)) >= limit:
            # A chunked body is cut at the limit when read; a cut body is a refused body.
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")


class MarketplaceRequest(Request):
    """Spools uploaded files to named temporary files (never to memory), so they can be
    checked with ffprobe by path and then streamed to storage. They vanish when closed."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = current_app.config.get("UPLOAD_TMP_DIR")
        return tempfile.NamedTemporaryFile(prefix="upload-", dir=folder)  # noqa: SIM115


def refuse_impossible_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Ids in paths are ours: short and plain. Anything else names nothing (and NUL or
    unpaired surrogates would upset the database), so it is a 404 before any query."""
    if not request.path.startswith(API_PREFIX):
        return  # e.g. signed file links, whose tokens are long by design
    for value in (values or {}).values():
        if isinstance(value, str) and (len(value) > 64 or _unstorable(value)):
            raise NotFound("No such resource.", code="not_found")


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
DOCS_PATH = API_PREFIX + "/docs"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _inline_script_hashes(html: bytes) -> str:
    digests = (hashlib.sha256(script).digest() for script in _INLINE_SCRIPT.findall(html))
    return "".join(f" 'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


def content_security_policy(response: Response, script_hashes: str = "") -> str:
    if request.path == DOCS_PATH and response.mimetype == "text/html":
        return DOCS_POLICY.format(script_hashes=_inline_script_hashes(response.get_data()))
    if request.path.startswith(API_PREFIX):
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
    if request.path.startswith(API_PREFIX) and "Cache-Control" not in headers:
        # Answers about a signed-in user (and tokens) must not sit in shared caches.
        if "Authorization" in request.headers or request.path.startswith(API_PREFIX + "/auth/"):
            headers["Cache-Control"] = "no-store"
    return response


# -- CORS: the API serves its own pages (same origin). A browser on another origin gets no
# Access-Control-Allow-Origin, unless that origin is named in CORS_ALLOWED_ORIGINS. Tokens
# travel in the Authorization header, never in cookies, so credentials are never allowed.
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
CORS_EXPOSED_HEADERS = "X-Request-ID, Retry-After, Content-Range, Content-Length, ETag"
CORS_MAX_AGE_SECONDS = "600"


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith(API_PREFIX):
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
    if request.path.startswith(API_PREFIX):
        response.vary.add("Origin")  # the answer's headers depend on the caller's origin
    origin = _allowed_origin()
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    return response


def init_api(app: Flask, blueprints: list[Blueprint]) -> MarketplaceApi:
    api = MarketplaceApi(app, spec_kwargs={"info": {"description": (
        "Beat licensing marketplace. Every error is "
        '{"error": {"code", "message", "details"}}; money is integer minor units.')}})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "An access token from POST /api/v1/auth/login"})
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + (blueprint.url_prefix or ""))
    app.url_value_preprocessor(refuse_impossible_ids)
    app.before_request(answer_preflight)
    app.before_request(guard_request_body)
    app.after_request(set_security_headers)
    app.after_request(set_cors_headers)
    app.request_class = MarketplaceRequest
    return api
