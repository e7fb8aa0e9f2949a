"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.errors import error_response

log = logging.getLogger("marketplace.health")

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The process can serve traffic: its database answers, and so does the rate limiters'
    store (Redis in production)."""
    checks = {"database": "ok", "rate_limits": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("database_unreachable", extra={"error_type": type(exc).__name__})
        checks["database"] = "unreachable"
    if not rate_limits().healthy():
        checks["rate_limits"] = "unreachable"
    if "unreachable" in checks.values():
        return error_response(503, "not_ready", "A service this app needs is unreachable.", {"checks": checks})
    return jsonify(status="ok", checks=checks)
