"""The JSON documents of checkout answers (the schemas in schemas.py describe them): a
started checkout, a quote, a license's upgrades, orders, coupons and deals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.checkout import services as checkout
from marketplace.checkout.coupon_uses import live_uses
from marketplace.checkout.models import BulkDeal, Coupon, CouponKind, Order, OrderStatus
from marketplace.common.money import money_document
from marketplace.db import db
from marketplace.licensing.models import License


def checkout_document(order: Order) -> dict[str, Any]:
    """A payment page is handed out only while its order is pending; a free order has none."""
    url = order.checkout_url if order.status == OrderStatus.PENDING else None
    return {"order_id": order.id, "checkout_url": url, "expires_at": order.expires_at}


def quote_document(priced: checkout.PricedCart, coupon_code: str | None) -> dict[str, Any]:
    def money(amount: int) -> dict[str, Any]:
        return money_document(amount, priced.currency)

    sellers = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({item.seller_id for item in priced.order_items})))}
    return {
        "items": [{"beat_id": item.beat_id, "tier_id": item.tier_id, "beat_title": item.beat_title,
                   "beatmaker": {"id": item.seller_id, "display_name": sellers[item.seller_id].display_name},
                   "tier_name": item.tier_name, "kind": item.kind,
                   "list_price": money(item.list_price_amount), "discount": money(item.discount_amount),
                   "price": money(item.price_amount),
                   "discounts": [_public_discount(discount) for discount in item.discounts],
                   "upgrade_of_license_id": item.upgrade_of_license_id}
                  for item in priced.order_items],
        "subtotal": money(priced.subtotal), "discount": money(priced.discount), "total": money(priced.total),
        "coupon_code": coupon_code.strip().upper() if priced.coupons and coupon_code else None,
    }


def _public_discount(discount: dict[str, Any]) -> dict[str, Any]:
    """A line's discount as the buyer may see it: what and how much, not the sellers' ids."""
    return {key: value for key, value in discount.items() if key in ("type", "label", "code", "amount")}


def upgrades_document(license_: License, problem: str | None, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"license_id": license_.id, "license_number": license_.license_number,
            "upgradable": problem is None, "reason": problem,
            "options": [_upgrade_option(option, license_.currency) for option in options]}


def _upgrade_option(option: dict[str, Any], currency: str) -> dict[str, Any]:
    offer = option["offer"]
    return {"tier_id": offer.tier_id, "tier_name": offer.tier.name, "kind": offer.tier.kind,
            "list_price": money_document(offer.price_amount, offer.currency),
            "credit": money_document(option["credit"], currency),
            "price": money_document(option["price"], offer.currency),
            "deliverables": offer.tier.deliverables, "term_years": offer.tier.term_years,
            "available": option["available"], "reason": option["reason"]}


def order_documents(orders: list[Order]) -> list[dict[str, Any]]:
    licenses = checkout.licenses_by_id(orders)
    return [_order_document(order, licenses) for order in orders]


def _order_document(order: Order, licenses: dict[str, License]) -> dict[str, Any]:
    def money(amount: int) -> dict[str, Any]:
        return money_document(amount, order.currency)

    return {
        "id": order.id, "status": order.status, "status_reason": order.status_reason,
        "payment_under_way": order.status == OrderStatus.PENDING and order.payment_intent_id is not None,
        "subtotal": money(order.subtotal_amount), "discount": money(order.discount_amount),
        "total": money(order.total_amount), "refunded": money(order.refunded_amount),
        "coupon_code": order.coupon_code,
        "checkout_url": order.checkout_url if order.status == OrderStatus.PENDING else None,
        "expires_at": order.expires_at, "created_at": order.created_at, "paid_at": order.paid_at,
        "refund_requested_at": order.refund_requested_at,
        "items": [{"id": item.id, "beat_id": item.beat_id, "tier_id": item.tier_id,
                   "beat_title": item.beat_title, "tier_name": item.tier_name, "kind": item.kind,
                   "status": item.status, "list_price": money(item.list_price_amount),
                   "discount": money(item.discount_amount), "price": money(item.price_amount),
                   "discounts": item.discounts, "terms": item.terms, "license_id": item.license_id,
                   "upgrade_of_license_id": item.upgrade_of_license_id,
                   "refund_reason": item.refund_reason} for item in order.items],
        "licenses": [{"id": lic.id, "license_number": lic.license_number, "beat_id": lic.beat_id,
                      "kind": lic.kind, "status": lic.standing}
                     for lic in (licenses.get(item.license_id) for item in order.items) if lic],
    }


def coupon_document(coupon: Coupon) -> dict[str, Any]:
    return {"id": coupon.id, "code": coupon.code, "kind": coupon.kind, "percent_off": coupon.percent_off,
            "amount_off": (money_document(coupon.amount_off, coupon.currency)
                           if coupon.kind == CouponKind.FIXED else None),
            "beat_id": coupon.beat_id, "expires_at": coupon.expires_at,
            "max_redemptions": coupon.max_redemptions, "redemptions": live_uses(coupon),
            "active": coupon.active}


def deal_document(deal: BulkDeal) -> dict[str, Any]:
    return {"id": deal.id, "buy_count": deal.buy_count, "free_count": deal.free_count, "active": deal.active,
            "label": f"Buy {deal.buy_count} get {deal.free_count} free"}
