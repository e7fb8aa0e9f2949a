"""Beat licensing marketplace: the application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import PROJECT_ROOT, Config, config_for


def create_app(config: str | type[Config] | None = None,
               overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for a settings profile (a name such as "production", a Config class, or
    None for APP_ENV), with optional overrides on top (tests use these)."""
    settings = config_for(config) if config is None or isinstance(config, str) else config
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"), static_url_path="/static")
    app.config.from_object(settings)
    app.config.update(overrides or {})
    app.json.sort_keys = False  # keep fields in the order the schemas declare them
    if app.config["TRUSTED_PROXY_COUNT"]:
        proxies = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    settings.check(app.config)

    from marketplace.observability import configure_logging, init_request_logging

    configure_logging(app.config["LOG_LEVEL"])
    init_request_logging(app)  # first, so every later hook and error has a request id
    from marketplace.compression import init_compression

    init_compression(app)  # before the other hooks, so it runs after them: they see the plain body

    from marketplace.accounts.passwords import init_passwords
    from marketplace.common.ratelimit import init_rate_limits
    from marketplace.db import db
    from marketplace.jobs.queue import init_jobs
    from marketplace.storage.service import init_storage

    db.init_app(app)
    init_rate_limits(app)
    init_passwords(app)
    init_storage(app)
    _plug_in_payments(app)
    _register_jobs()
    from marketplace.listeners import register_listeners

    register_listeners()  # the database's and checkout's listeners, process-wide
    init_jobs(app)

    _register_web(app)
    from marketplace.cli import init_cli
    from marketplace.migrate import init_migrations

    init_cli(app)
    init_migrations(app)
    return app


def _plug_in_payments(app: Flask) -> None:
    """One Stripe gateway (real Stripe, or the local sandbox) serves checkout's payment port and
    payouts' Connect gateway: two interfaces, each owned by the package that uses it."""
    from marketplace.checkout.port import use_payment_port
    from marketplace.payments.service import build_gateway
    from marketplace.payouts.port import use_connect_gateway

    gateway = build_gateway(app.config)
    use_payment_port(app, gateway)
    use_connect_gateway(app, gateway)


def _register_jobs() -> None:
    """Import every module that defines jobs, so each is registered before workers start."""
    import marketplace.accounts.tasks  # noqa: F401
    import marketplace.catalog.tasks  # noqa: F401
    import marketplace.licensing.tasks  # noqa: F401
    import marketplace.checkout.tasks  # noqa: F401
    import marketplace.moderation.tasks  # noqa: F401
    import marketplace.mail.tasks  # noqa: F401
    import marketplace.payouts.tasks  # noqa: F401  (also hears Stripe's account.updated)
    import marketplace.collaborators.tasks  # noqa: F401
    import marketplace.proposals.tasks  # noqa: F401


def _register_web(app: Flask) -> None:
    from marketplace.accounts.views import blp as accounts_blp
    from marketplace.api import init_api
    from marketplace.catalog.listing_cache import init_listing_cache
    from marketplace.catalog.views import blp as catalog_blp
    from marketplace.checkout.availability import offers_with_holds
    from marketplace.checkout.services import close_checkouts_of_beat
    from marketplace.checkout.views import blp as checkout_blp
    from marketplace.codes import blp as codes_blp
    from marketplace.collaborators.sheet_views import blp as split_sheets_blp
    from marketplace.collaborators.views import blp as collaborators_blp
    from marketplace.errors import register_error_handlers
    from marketplace.health import bp as health_bp
    from marketplace.jobs.views import admin_blp as jobs_admin_blp
    from marketplace.licensing.views import blp as licensing_blp
    from marketplace.licensing.views import trace_blp
    from marketplace.licensing.views import well_known_blp
    from marketplace.moderation.beats import hold_back_on_publication
    from marketplace.moderation.views import admin_blp
    from marketplace.moderation.views import blp as moderation_blp
    from marketplace.payments.views import blp as payments_blp
    from marketplace.payouts.views import admin_blp as payouts_admin_blp
    from marketplace.payouts.views import blp as payouts_blp
    from marketplace.privacy.views import blp as privacy_blp
    from marketplace.profiles.views import blp as profiles_blp
    from marketplace.proposals.views import blp as proposals_blp
    from marketplace.stats.views import blp as stats_blp
    from marketplace.storage.views import bp as files_bp
    from marketplace.web import bp as web_bp

    register_error_handlers(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(files_bp)
    app.register_blueprint(web_bp)
    if app.config["ENV_NAME"] == "development":  # the outbox page, never served elsewhere
        from marketplace.mail.dev_pages import bp as dev_mail_bp

        app.register_blueprint(dev_mail_bp)
    app.extensions["api"] = init_api(app, [accounts_blp, catalog_blp, licensing_blp, checkout_blp, payments_blp,
                                           moderation_blp, admin_blp, payouts_blp, payouts_admin_blp,
                                           jobs_admin_blp, privacy_blp, profiles_blp, stats_blp, collaborators_blp,
                                           split_sheets_blp, proposals_blp, trace_blp, codes_blp])
    app.extensions["api"].register_blueprint(well_known_blp)  # at the site's root, not under /api/v1
    app.extensions["beat_offers"] = offers_with_holds  # beats show their offers, held exclusives unavailable
    init_listing_cache(app)
    # Moderation may hold a processed beat back (a suspended owner, pre-moderation).
    app.extensions["publication_gate"] = hold_back_on_publication
    # A beat the owner archives ends its open checkouts (moderation calls checkout itself).
    app.extensions["beat_leaving_store"] = close_checkouts_of_beat
