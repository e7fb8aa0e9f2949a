"""The sandbox's Flask app: Stripe's API, the hosted checkout and onboarding pages and the controls."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from marketplace.payments.sandbox.api import api
from marketplace.payments.sandbox.controls import controls
from marketplace.payments.sandbox.errors import StripeError
from marketplace.payments.sandbox.hosted import hosted
from marketplace.payments.sandbox.objects import new_id
from marketplace.payments.sandbox.service import EXTENSION, Sandbox
from marketplace.payments.sandbox.state import Store
from marketplace.payments.sandbox.webhooks import WebhookEndpoint


def create_sandbox_app(webhook_url: str | None = None, webhook_secret: str | None = None,
                       state_file: str | Path | None = None, public_url: str | None = None) -> Flask:
    """Without a webhook URL events are only recorded; without a secret one is made up."""
    app = Flask(__name__)
    app.json.sort_keys = False  # Stripe's field order
    endpoint = WebhookEndpoint(webhook_url, webhook_secret or new_id("whsec", 32))
    store = Store(Path(state_file) if state_file else None)
    app.extensions[EXTENSION] = Sandbox(store, endpoint, public_url.rstrip("/") if public_url else None)
    app.register_blueprint(api)
    app.register_blueprint(hosted)
    app.register_blueprint(controls)
    app.before_request(_assign_request_id)
    app.after_request(_send_request_id)
    app.register_error_handler(StripeError, _stripe_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _assign_request_id() -> None:
    g.request_id = new_id("req", 14)


def _send_request_id(response: Response) -> Response:
    response.headers["Request-Id"] = g.request_id
    return response


def _stripe_error(error: StripeError) -> tuple[Response, int]:
    return jsonify(error.body()), error.status


def _http_error(error: HTTPException) -> HTTPException | tuple[Response, int]:
    """Unknown API routes answer as Stripe's do; everything else keeps Flask's answer."""
    if not request.path.startswith("/v1/") or error.code not in (404, 405):
        return error
    message = (f"Unrecognized request URL ({request.method}: {request.path}). "
               "The sandbox serves the parts of Stripe's API the marketplace uses.")
    return jsonify(StripeError(message, status=404).body()), 404
