"""Pages served to browsers from static/pages. They use the public API only."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("web", __name__)


@bp.get("/orders/<order_id>")
def order_page(order_id: str):
    """Where the payment page sends buyers back: the order, settled if it was just paid."""
    return send_from_directory(current_app.static_folder + "/pages", "order.html", max_age=0)
