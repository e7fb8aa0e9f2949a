"""Plugs Stripe into checkout's payment port when the app starts."""

from __future__ import annotations

from flask import Flask

from marketplace.payments.stripe_gateway import StripeGateway

# Used only against the bundled sandbox (development and tests), never with real Stripe.
SANDBOX_SECRET_KEY = "sk_test_sandbox"
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_development_only"


def init_payments(app: Flask) -> None:
    app.extensions["payment_port"] = build_gateway(app.config)


def build_gateway(config) -> StripeGateway:
    """Real Stripe when a secret key is configured; otherwise the local sandbox."""
    if config.get("STRIPE_SECRET_KEY"):
        secret_key, webhook_secret = config["STRIPE_SECRET_KEY"], config.get("STRIPE_WEBHOOK_SECRET") or ""
        api_base = config.get("STRIPE_API_BASE")
    else:
        secret_key, webhook_secret = SANDBOX_SECRET_KEY, config.get("STRIPE_WEBHOOK_SECRET") or SANDBOX_WEBHOOK_SECRET
        api_base = config.get("STRIPE_API_BASE") or config["STRIPE_SANDBOX_URL"]
    return StripeGateway(secret_key, webhook_secret, api_base=api_base,
                         timeout_seconds=config["STRIPE_TIMEOUT_SECONDS"],
                         max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"])
