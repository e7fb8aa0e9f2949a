"""Builds the Stripe gateway the app starts with: real Stripe, or the local sandbox. The app
factory plugs it into checkout's payment port and payouts' Connect gateway."""

from __future__ import annotations

from marketplace.payments.stripe_gateway import StripeGateway

# Used only against the bundled sandbox (development and tests), never with real Stripe.
SANDBOX_SECRET_KEY = "sk_test_sandbox"
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_development_only"


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
