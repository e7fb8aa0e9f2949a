"""A copy of what the store holds about a person, as one JSON document they can download.

It covers their account (profile, sessions, a pending change of address), what they bought
(orders, licenses), what they sell (beats and their credits, tiers, coupons, the voice tag's
settings, sales and licenses sold), what they were paid (payout account, balance, ledger,
transfers), credits others gave them, and their part in moderation (reports filed, strikes).
Other people's details stay out: a license sold shows its number and terms, not the buyer.
Hashes of secrets (password, tokens) are the store's, not the person's data, and stay out too.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from marketplace.accounts.email_change import pending_change
from marketplace.accounts.models import AccessToken, User
from marketplace.catalog.models import Beat, BeatCredit, VoiceTag
from marketplace.checkout.models import Coupon, Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.library import license_document
from marketplace.licensing.models import FreeLicense, License, LicenseTier
from marketplace.moderation.models import Report, Strike
from marketplace.payouts import documents as payout_documents
from marketplace.payouts.models import LedgerEntry, PayoutTransfer
from marketplace.payouts.services import account_of


def export_document(user: User) -> dict[str, Any]:
    mine = user.id
    return {
        "exported_at": utcnow(),
        "profile": _profile(user),
        "sessions": [_session(row) for row in _rows(AccessToken, AccessToken.user_id == mine,
                                                    AccessToken.created_at)],
        "orders": [_order(row) for row in _rows(Order, Order.buyer_id == mine, Order.created_at, Order.id)],
        "licenses_bought": [license_document(row) for row in _rows(License, License.buyer_id == mine,
                                                                   License.issued_at)],
        "free_licenses": [license_document(row) for row in _rows(FreeLicense, FreeLicense.buyer_id == mine,
                                                                 FreeLicense.issued_at)],
        "beats": [_beat(row, mine) for row in _rows(Beat, Beat.owner_id == mine, Beat.created_at, Beat.id)],
        "credits_received": [_credit(row, mine) for row in _all(
            select(BeatCredit).join(Beat, Beat.id == BeatCredit.beat_id)
            .where(BeatCredit.user_id == mine, Beat.owner_id != mine).order_by(BeatCredit.id))],
        "license_tiers": [_tier(row) for row in _rows(LicenseTier, LicenseTier.owner_id == mine,
                                                      LicenseTier.position, LicenseTier.id)],
        "coupons": [_coupon(row) for row in _rows(Coupon, Coupon.owner_id == mine, Coupon.created_at)],
        "voice_tag": _voice_tag(db.session.get(VoiceTag, mine)),
        "sales": payout_documents.sales_document(mine),
        "licenses_sold": [_license_sold(row) for row in _rows(License, License.seller_id == mine,
                                                              License.issued_at)],
        "payouts": _payouts(user),
        "reports_filed": [_report(row) for row in _rows(Report, Report.reporter_id == mine, Report.id)],
        "strikes": [_strike(row) for row in _rows(Strike, Strike.user_id == mine, Strike.id)],
    }


def export_json(user: User) -> str:
    return json.dumps(export_document(user), default=_encode, ensure_ascii=False, indent=2)


def file_name() -> str:
    return f"my-data-{utcnow():%Y-%m-%d}.json"


def _all(query) -> list[Any]:
    return list(db.session.scalars(query))


def _rows(model, condition, *order) -> list[Any]:
    return _all(select(model).where(condition).order_by(*order))


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _money(amount: int | None, currency: str | None) -> dict[str, Any] | None:
    return None if amount is None else {"amount": amount, "currency": currency}


def _profile(user: User) -> dict[str, Any]:
    change = pending_change(user)
    return {"id": user.id, "email": user.email, "display_name": user.display_name, "roles": user.roles,
            "status": user.status, "email_verified_at": user.email_verified_at, "created_at": user.created_at,
            "pending_email_change": None if change is None else {
                "new_email": change.new_email, "requested_at": change.created_at,
                "expires_at": change.expires_at}}


def _session(token: AccessToken) -> dict[str, Any]:
    return {"id": token.id, "signed_in_at": token.created_at, "last_used_at": token.last_used_at,
            "expires_at": token.expires_at, "ended_at": token.revoked_at, "device": token.user_agent,
            "address": token.address}


def _order(order: Order) -> dict[str, Any]:
    return {"id": order.id, "status": order.status, "created_at": order.created_at, "paid_at": order.paid_at,
            "subtotal": _money(order.subtotal_amount, order.currency),
            "discount": _money(order.discount_amount, order.currency),
            "total": _money(order.total_amount, order.currency),
            "refunded": _money(order.refunded_amount, order.currency), "coupon_code": order.coupon_code,
            "items": [{"beat_id": item.beat_id, "beat_title": item.beat_title, "tier_name": item.tier_name,
                       "kind": item.kind, "status": item.status,
                       "price": _money(item.price_amount, order.currency), "license_id": item.license_id}
                      for item in order.items]}


def _beat(beat: Beat, user_id: str) -> dict[str, Any]:
    return {"id": beat.id, "title": beat.title, "description": beat.description, "status": beat.status,
            "bpm": beat.bpm, "key": beat.musical_key, "genre": beat.genre, "mood": beat.mood,
            "tags": beat.tags,
            "samples": beat.samples, "version_of": beat.version_of_id, "play_count": beat.play_count,
            "created_at": beat.created_at, "published_at": beat.published_at,
            "sold_exclusive_at": beat.sold_exclusive_at,
            "credits": [_credit(credit, user_id) for credit in beat.credits]}


def _credit(credit: BeatCredit, user_id: str) -> dict[str, Any]:
    return {"beat_id": credit.beat_id, "name": credit.name, "linked_to_you": credit.user_id == user_id,
            "role": credit.role,
            "profit_share_bps": credit.profit_share_bps, "publishing_share_bps": credit.publishing_share_bps,
            "master_points_bps": credit.master_points_bps}


def _tier(tier: LicenseTier) -> dict[str, Any]:
    return {"id": tier.id, "name": tier.name, "kind": tier.kind, "term_years": tier.term_years,
            "default_price": _money(tier.default_price_amount, tier.currency),
            "archived_at": tier.archived_at}


def _coupon(coupon: Coupon) -> dict[str, Any]:
    return {"code": coupon.code, "kind": coupon.kind, "percent_off": coupon.percent_off,
            "amount_off": _money(coupon.amount_off, coupon.currency), "beat_id": coupon.beat_id,
            "expires_at": coupon.expires_at, "max_redemptions": coupon.max_redemptions,
            "active": coupon.active}


def _voice_tag(tag: VoiceTag | None) -> dict[str, Any] | None:
    if tag is None:
        return None
    return {"uploaded": tag.tag_key is not None, "interval_seconds": tag.interval_seconds,
            "gain_db": tag.gain_db, "first_at_seconds": tag.first_at_seconds}


def _license_sold(row: License) -> dict[str, Any]:
    return {"license_number": row.license_number, "beat_id": row.beat_id,
            "beat_title": row.beat_snapshot["title"],
            "tier_name": row.terms.get("tier_name"), "kind": row.kind, "status": row.status,
            "price": _money(row.price_amount, row.currency), "issued_at": row.issued_at,
            "revoked_at": row.revoked_at}


def _payouts(user: User) -> dict[str, Any]:
    ledger = _rows(LedgerEntry, LedgerEntry.payee_id == user.id, LedgerEntry.id)
    transfers = _rows(PayoutTransfer, PayoutTransfer.payee_id == user.id, PayoutTransfer.created_at)
    return {"account": payout_documents.connected_account_document(account_of(user.id)),
            "balance": payout_documents.balance_document(user.id),
            "ledger": [{"id": row.id, "kind": row.kind, "amount": _money(row.amount, row.currency),
                        "order_id": row.order_id, "created_at": row.created_at} for row in ledger],
            "transfers": [{"id": row.id, "status": row.status, "amount": _money(row.amount, row.currency),
                           "reversed": _money(row.amount_reversed, row.currency),
                           "created_at": row.created_at, "paid_at": row.paid_at} for row in transfers]}


def _report(report: Report) -> dict[str, Any]:
    return {"id": report.id, "beat_id": report.beat_id, "reason": report.reason, "details": report.details,
            "status": report.status, "created_at": report.created_at, "resolved_at": report.resolved_at,
            "resolution_note": report.resolution_note}


def _strike(strike: Strike) -> dict[str, Any]:
    return {"id": strike.id, "reason": strike.reason, "created_at": strike.created_at,
            "lifted_at": strike.lifted_at, "lift_reason": strike.lift_reason}
