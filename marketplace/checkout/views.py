from __future__ import annotations

import logging
import time
from typing import Any

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors
from marketplace.checkout import documents, promotions
from marketplace.checkout import services as checkout
from marketplace.checkout.models import Order, OrderStatus
from marketplace.checkout.port import PaymentProviderError, PaymentProviderUnavailable
from marketplace.checkout.schemas import (
    CheckoutInSchema,
    CheckoutOutSchema,
    CouponEditSchema,
    CouponInSchema,
    CouponSchema,
    DealInSchema,
    DealSchema,
    OrderSchema,
    QuoteSchema,
    RefundInSchema,
    UpgradesSchema,
)
from marketplace.common.links import request_base_url
from marketplace.common.ratelimit import LimiterUnavailable, rate_limits
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, RateLimited

log = logging.getLogger("marketplace.checkout")

blp = Blueprint("checkout", __name__, description="Checkout, orders, coupons and deals")
ORDER_SYNC_LIMIT = "1 per 2 seconds"
SAME_CART_WAIT_SECONDS = 15


@blp.post("/checkout")
@auth_required()
@blp.arguments(CheckoutInSchema)
@blp.response(201, CheckoutOutSchema)
@blp.alt_response(200, schema=CheckoutOutSchema, success=True,
                  description="the same cart again: its pending order and its page")
@document_errors(409, 422, 502, 503)
def start_checkout(cart):
    """Price the cart, hold any exclusive for you, and open a payment page (30 minutes). The
    same cart sent again while its order is pending answers that order and its page (200). A
    cart discounted to nothing is licensed at once, without a payment page."""
    buyer = current_user()
    items = _cart_items(cart)
    order, created = checkout.place_order(buyer, items, cart["coupon_code"])
    if not created:  # the same cart again: its pending order, and the page it has (or is getting)
        db.session.rollback()
        return _page_of_same_cart(order.id), 200
    if order.total_amount == 0:
        checkout.issue_free_order(order)
    db.session.commit()  # the holds are ours from here, whatever the provider does
    if order.status == OrderStatus.PENDING:
        _open_payment_page(order, buyer)
    log.info("checkout_started", extra={"order_id": order.id, "items": len(items),
                                        "total": order.total_amount})
    return documents.checkout_document(order)


@blp.post("/checkout/quote")
@auth_required()
@blp.arguments(CheckoutInSchema)
@blp.response(200, QuoteSchema)
@document_errors(409, 422)
def quote_checkout(cart):
    """What checking out this cart would charge now: each line with its deal and coupon
    discounts, and the total, priced exactly as `POST /checkout` prices it. No order is
    placed, nothing is held or reserved. A cart checkout would refuse is refused alike, with
    every line that cannot be bought named in `details.items` by its position."""
    buyer = current_user()
    priced = checkout.quote(buyer, _cart_items(cart), cart["coupon_code"])
    document = documents.quote_document(priced, cart["coupon_code"])
    db.session.rollback()  # a quote changes nothing
    return document


def _cart_items(cart: dict[str, Any]) -> list[checkout.CartItem]:
    return [checkout.CartItem(beat_id=item["beat_id"] or "", tier_id=item["tier_id"] or "",
                              upgrade_of=item["license_id"], proposal_id=item["proposal_id"])
            for item in cart["items"]]


@blp.get("/licenses/<license_id>/upgrades")
@auth_required()
@blp.response(200, UpgradesSchema)
@document_errors(404)
def license_upgrades(license_id):
    """What your license can be upgraded to today: each higher license of its beat (a dearer
    lease, the exclusive), priced at its price less what you paid for this license, never
    below the seller's floor. Check one out with an item {kind: upgrade, license_id, tier_id};
    once paid, this license is superseded by the new one."""
    document = documents.upgrades_document(*checkout.upgrade_options(current_user(), license_id))
    db.session.rollback()  # asking changes nothing
    return document


def _open_payment_page(order: Order, buyer) -> None:
    try:
        opened = checkout.open_payment_page(order, buyer, *_return_urls(order))
        db.session.commit()
    except Exception as error:
        # Whatever went wrong, the order must not stay pending with its holds.
        db.session.rollback()
        checkout.abandon_order(order.id, getattr(error, "code", "checkout_failed"))
        db.session.commit()
        raise
    if not opened:
        raise checkout.CheckoutReplaced()


def _page_of_same_cart(order_id: str) -> dict[str, Any]:
    """The pending order of an identical cart, once its page is open: the request that placed
    it may be opening it at this moment."""
    deadline = time.monotonic() + SAME_CART_WAIT_SECONDS
    while True:
        order = db.session.get(Order, order_id, populate_existing=True)
        if order.status != OrderStatus.PENDING:
            raise Conflict("Your checkout of this same cart has just closed. Start again.",
                           code="checkout_closed", details={"order_id": order.id, "status": order.status})
        if order.checkout_url:
            return documents.checkout_document(order)
        db.session.rollback()  # end this read, so the next one sees the other request's commit
        if time.monotonic() > deadline:
            raise Conflict("The same cart is being checked out by another of your requests. Try again in a "
                           "moment.", code="checkout_in_progress", details={"order_id": order.id})
        time.sleep(0.1)


def _return_urls(order: Order) -> tuple[str, str]:
    base = request_base_url()
    return (f"{base}/orders/{order.id}?session_id={{CHECKOUT_SESSION_ID}}",
            f"{base}/orders/{order.id}?cancelled=1")


@blp.get("/orders")
@auth_required()
@blp.response(200, OrderSchema(many=True))
def list_orders():
    """Your orders, newest first."""
    orders = checkout.orders_of(current_user())
    return documents.order_documents(orders)


@blp.get("/orders/<order_id>")
@auth_required()
@blp.response(200, OrderSchema)
@document_errors(404)
def get_order(order_id):
    """An order. Coming back from the payment page, this fulfils a paid order even when the
    payment provider's notification has not arrived yet."""
    order = checkout.order_for(current_user(), order_id)
    if order.status == OrderStatus.PENDING and order.payment_session_id and _may_ask_provider(order):
        try:
            order = checkout.sync_with_session(order)
            db.session.commit()
        except (PaymentProviderError, PaymentProviderUnavailable):
            # The notification will settle it; show the order as it stands.
            db.session.rollback()
            order = checkout.order_for(current_user(), order_id)
    return documents.order_documents([order])[0]


def _may_ask_provider(order: Order) -> bool:
    """An order page polled while it waits asks the payment provider at most every few
    seconds: the provider's rate limit is the whole store's."""
    try:
        rate_limits().hit(ORDER_SYNC_LIMIT, "order-sync", order.id)
    except (RateLimited, LimiterUnavailable):
        return False
    return True


@blp.post("/orders/<order_id>/refund")
@auth_required(Role.ADMIN)
@blp.arguments(RefundInSchema, required=False)
@blp.response(202, OrderSchema)
@document_errors(404, 409, 422, 502, 503)
def refund_order(fields, order_id):
    """Refund the whole order through the payment provider (asking twice refunds once); its
    licenses are revoked when the provider confirms the refund. With `items`, only those lines:
    their licenses are revoked at once, their shares taken back, and each line's price is refunded
    with an amount; the buyer gets a receipt."""
    order = checkout.order_for(current_user(), order_id)
    item_ids = (fields or {}).get("items")
    if item_ids:
        checkout.refund_lines(order, item_ids, "admin_refund")
    else:
        order = checkout.request_refund(order)
    db.session.commit()
    return documents.order_documents([db.session.get(Order, order_id)])[0]


# -- coupons and deals, managed by beatmakers --------------------------------------------

@blp.get("/coupons")
@auth_required(Role.BEATMAKER)
@blp.response(200, CouponSchema(many=True))
def list_coupons():
    """Your coupons, with how often each was used."""
    return [documents.coupon_document(c) for c in promotions.coupons_of(current_user())]


@blp.post("/coupons")
@auth_required(Role.BEATMAKER)
@blp.arguments(CouponInSchema)
@blp.response(201, CouponSchema)
@document_errors(409, 422)
def create_coupon(fields):
    """A code buyers enter at checkout: percent or fixed off, on one beat or all of yours."""
    coupon = promotions.create_coupon(current_user(), fields)
    db.session.commit()
    return documents.coupon_document(coupon)


@blp.patch("/coupons/<coupon_id>")
@auth_required(Role.BEATMAKER)
@blp.arguments(CouponEditSchema)
@blp.response(200, CouponSchema)
@document_errors(404, 422)
def edit_coupon(fields, coupon_id):
    """Change a coupon's end date, raise or lift its limit, end it or start it again. The code
    and the discount stay as they are."""
    coupon = promotions.edit_coupon(current_user(), coupon_id, fields)
    db.session.commit()
    return documents.coupon_document(coupon)


@blp.delete("/coupons/<coupon_id>")
@auth_required(Role.BEATMAKER)
@blp.response(200, CouponSchema)
@document_errors(404)
def end_coupon(coupon_id):
    """Stop a coupon. Orders that used it keep their discount."""
    coupon = promotions.end_coupon(current_user(), coupon_id)
    db.session.commit()
    return documents.coupon_document(coupon)


@blp.get("/deal")
@auth_required(Role.BEATMAKER)
@blp.response(200, DealSchema)
@document_errors(404)
def get_deal():
    """Your running bulk deal."""
    deal = promotions.deal_of(current_user())
    if deal is None:
        raise NotFound("You have no bulk deal running.", code="deal_not_found")
    return documents.deal_document(deal)


@blp.put("/deal")
@auth_required(Role.BEATMAKER)
@blp.arguments(DealInSchema)
@blp.response(200, DealSchema)
@document_errors(422)
def set_deal(fields):
    """"Buy N get M free" on your leases; replaces the deal running."""
    deal = promotions.set_deal(current_user(), fields["buy_count"], fields["free_count"])
    db.session.commit()
    return documents.deal_document(deal)


@blp.delete("/deal")
@auth_required(Role.BEATMAKER)
@blp.response(204)
def end_deal():
    promotions.end_deal(current_user())
    db.session.commit()
