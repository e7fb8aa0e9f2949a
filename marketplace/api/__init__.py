"""The REST API's shared conventions, one module per concern:

- paths: where the API lives (API_PREFIX, the docs' path);
- spec: the flask-smorest Api, the documented error envelope (document_errors), bearer security;
- parser: the API's Blueprint and its safe parser (bodies that would crash answer 4xx);
- storable_text: text the database cannot store is refused;
- uploads: uploaded files spooled to temporary files and checked;
- guards: body size and media type, and impossible path ids, refused before any view;
- headers: the security headers and content security policies;
- cors: cross-origin access for the origins named in CORS_ALLOWED_ORIGINS;
- responses: answers built from a document already in its JSON form;
- schemas: the shapes many answers share (money, a page of a keyset listing).
"""

from __future__ import annotations

from flask import Flask

from marketplace.api.cors import answer_preflight, set_cors_headers
from marketplace.api.guards import (
    PayloadTooLarge,
    UnsupportedMediaType,
    accepts_one_click_form,
    guard_request_body,
    refuse_impossible_ids,
)
from marketplace.api.headers import content_security_policy, set_security_headers
from marketplace.api.parser import Blueprint
from marketplace.api.paths import API_PREFIX
from marketplace.api.responses import encoded_json_response, json_response, large_json_response
from marketplace.api.spec import BEARER_SECURITY, MarketplaceApi, document_errors
from marketplace.api.uploads import MarketplaceRequest

__all__ = ["API_PREFIX", "BEARER_SECURITY", "Blueprint", "PayloadTooLarge", "UnsupportedMediaType",
           "accepts_one_click_form", "content_security_policy", "document_errors", "encoded_json_response",
           "init_api", "json_response", "large_json_response"]


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
