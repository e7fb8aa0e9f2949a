"""Checkout: from a cart to a pending order with a payment page, and from a payment to
licenses, exactly once.

The edges own the transactions. Starting a checkout is two of them: the order and its
exclusive holds are committed first (the holds' unique index settles races at once, without
waiting on the payment provider), then the payment page is opened and its id committed, or
the order fails and its holds are released. Fulfilment is idempotent: the webhook and the
success page may both call it, in any order, any number of times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import PUBLIC_STATUSES, BeatStatus
from marketplace.catalog.models import Beat
from marketplace.checkout import coupon_uses, holds, signals, states, upgrades
from marketplace.checkout.models import (
    BulkDeal,
    Coupon,
    ItemStatus,
    Order,
    OrderItem,
    OrderStatus,
)
from marketplace.checkout.port import (
    NewSession,
    PaymentProviderError,
    PaymentState,
    SessionLine,
    SessionState,
    payment_port,
)
from marketplace.checkout.pricing import PricedLine, coupon_problem, price_lines
from marketplace.common.clock import utcnow
from marketplace.common.money import MAX_CHARGE_MINOR, Money, minimum_charge
from marketplace.common.ratelimit import rate_limits
from marketplace.db import add_unless_refused, db
from marketplace.common.errors import AppError, Conflict, NotFound, RateLimited, ValidationFailed
from marketplace.jobs.queue import enqueue
from marketplace.licensing.issuing import (
    ExclusiveUnavailable,
    Sale,
    credits_snapshot,
    freeze_license,
    issue_license,
    revoke_license,
    terms_snapshot,
    unfreeze_license,
)
from marketplace.licensing.models import License, LicenseStatus, Offer, TierKind
from marketplace.licensing.offers import check_deliverable
from marketplace.proposals import services as proposals
from marketplace.proposals.models import Proposal

log = logging.getLogger("marketplace.checkout")

MAX_ITEMS = 20
# An identical cart sent again is answered with the pending order when its page stays open at
# least this long; otherwise that order is replaced by a new one with a fresh page.
SAME_CART_MIN_TIME_LEFT = dt.timedelta(minutes=5)
# Stripe wants a session's expiry at least 30 minutes ahead when the session is created,
# which is a moment after the order is placed (and after any network retry).
SESSION_EXPIRY_MARGIN = dt.timedelta(minutes=2)

# Why a line or an order was refunded, or an order's payment page closed, when its beat left
# the store (a takedown, an archive, a review, its owner's suspension) during the checkout.
BEAT_LEFT_STORE = "beat_left_store"

NO_SUCH_COUPON = "No coupon with this code for the beats in your cart."


@dataclasses.dataclass(frozen=True)
class CartItem:
    beat_id: str
    tier_id: str
    # An upgrade names the buyer's license it replaces (its beat is the license's).
    upgrade_of: str | None = None
    # A private checkout names the buyer's accepted proposal (its beat and tier are the proposal's).
    proposal_id: str | None = None


class PaymentMismatch(Conflict):
    code = "payment_mismatch"
    message = "The payment does not match the order."


class CheckoutReplaced(Conflict):
    code = "checkout_replaced"
    message = ("A newer checkout of yours replaced this one while its payment page was being opened: "
               "pay on the newer page.")


class PaymentUnderWay(Conflict):
    code = "payment_under_way"
    message = ("Your earlier payment for this is still being processed by your bank; "
               "it settles within a few days.")


# -- starting a checkout ----------------------------------------------------------------

def place_order(buyer: User, items: Sequence[CartItem], coupon_code: str | None) -> tuple[Order, bool]:
    """Check every item, price the cart, reserve its coupon uses and take the exclusive holds.
    The caller commits.

    Answers (the new order, True), or (the buyer's pending order of the very same cart, False):
    a double click or a client retry makes one order, whose payment page is handed out again."""
    items = _resolve_proposals(buyer, _resolve_upgrades(buyer, items, lock=True), lock=True)
    _check_cart_shape(items)
    _count_checkout(buyer)
    now = utcnow()
    fingerprint = cart_fingerprint(items, coupon_code)
    same = _pending_order_of_cart(buyer, fingerprint)
    if same is not None:
        if same.payment_intent_id is not None:
            raise PaymentUnderWay()
        if same.expires_at > now + SAME_CART_MIN_TIME_LEFT:
            return same, False
        _replace(same)  # its page closes in a moment: a new order gets a fresh one
    _replace_own_upgrade_checkouts(buyer, items)
    cart = price_cart(buyer, items, coupon_code, now)
    minutes = dt.timedelta(minutes=current_app.config["CHECKOUT_SESSION_MINUTES"])
    order = Order(buyer_id=buyer.id, currency=cart.currency, subtotal_amount=cart.subtotal,
                  discount_amount=cart.discount, total_amount=cart.total,
                  expires_at=now + minutes + SESSION_EXPIRY_MARGIN, coupon_code=coupon_code,
                  cart_fingerprint=fingerprint)
    order.items = cart.order_items
    lines, order_items, families, coupons = cart.lines, cart.order_items, cart.families, cart.coupons
    if not add_unless_refused(order):
        # The same cart, sent at the same moment, was placed first (the unique index decides,
        # on SQLite too): that order is the answer.
        same = _pending_order_of_cart(buyer, fingerprint)
        if same is None:
            raise Conflict("The same cart was being checked out at the same moment. Try again.",
                           code="checkout_in_progress")
        return same, False
    for coupon in coupons.values():
        if any(line.coupon_id == coupon.id for line in lines):
            _reserve_coupon(buyer, order, coupon)
    # An exclusive covers the original and its versions: the hold is on the family.
    for order_item, family_id in zip(order_items, families):
        if order_item.kind == TierKind.EXCLUSIVE:
            _drop_own_earlier_checkout(buyer, family_id)
            holds.take_hold(family_id, order.id, order.expires_at)
    return order, True


@dataclasses.dataclass
class PricedCart:
    """A cart checked and priced as checkout would charge it: its lines, unsaved, with their
    discounts, and the coupons that applied (keyed by seller id)."""
    currency: str
    order_items: list[OrderItem]
    lines: list[PricedLine]
    families: list[str]
    coupons: dict[str, Coupon]

    @property
    def subtotal(self) -> int:
        return sum(line.list_price for line in self.lines)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount


def price_cart(buyer: User, items: Sequence[CartItem], coupon_code: str | None, now: dt.datetime, *,
               lock_coupons: bool = True) -> PricedCart:
    """Check every item and price the cart: each seller's deal, then their coupon. Nothing is
    saved or reserved; checkout and the price quote both come through here, so a quote is
    what checkout charges."""
    currency = current_app.config["STORE_CURRENCY"]
    sellable = _sellable_items(buyer, items, currency)
    lines, order_items, families = [], [], []
    for position, ((beat, offer), item) in enumerate(zip(sellable, items)):
        families.append(beat.version_of_id or beat.id)
        order_items.append(OrderItem(
            position=position, beat_id=beat.id, tier_id=offer.tier_id, seller_id=beat.owner_id,
            kind=offer.tier.kind, beat_title=beat.title, tier_name=offer.tier.name,
            list_price_amount=offer.price_amount, terms=terms_snapshot(offer.tier, beat),
            credits=credits_snapshot(beat), upgrade_of_license_id=item.upgrade_of,
            proposal_id=item.proposal_id))
        line = PricedLine(seller_id=beat.owner_id, beat_id=beat.id, kind=offer.tier.kind,
                          list_price=offer.price_amount, upgrade=item.upgrade_of is not None)
        if item.proposal_id is not None:
            # The price agreed holds whatever the offer costs today; deals and coupons do not apply.
            agreed = db.session.get(Proposal, item.proposal_id).agreed_amount
            line.list_price, line.agreed = agreed, True
            order_items[-1].list_price_amount = agreed
        if item.upgrade_of is not None:
            _take_upgrade_credit(line, db.session.get(License, item.upgrade_of), offer, currency)
        lines.append(line)
    coupons = _coupons_for(buyer, coupon_code, {line.seller_id for line in lines}, currency, now,
                           lock=lock_coupons)
    deals = {deal.owner_id: deal for deal in db.session.scalars(select(BulkDeal).where(
        BulkDeal.owner_id.in_({line.seller_id for line in lines}), BulkDeal.active.is_(True)))}
    price_lines(lines, deals, coupons)
    if coupons and not any(line.coupon_id for line in lines):
        raise ValidationFailed(details={"coupon_code": ["This code does not apply to anything in the cart."]})
    for order_item, line in zip(order_items, lines):
        order_item.discount_amount, order_item.price_amount = line.discount, line.price
        order_item.discounts, order_item.coupon_id = line.discounts, line.coupon_id
    cart = PricedCart(currency, order_items, lines, families, coupons)
    _check_chargeable(cart.total, currency)
    return cart


def _take_upgrade_credit(line: PricedLine, license_: License, offer: Offer, currency: str) -> None:
    """An upgrade line costs the difference: the credit for the license it replaces comes off
    as the line's discount, so the order's amounts add up as every line's do."""
    credit = upgrades.credit_of(license_)
    price = upgrades.upgrade_price(offer.price_amount, credit, offer.upgrade_floor_amount, currency)
    line.take(offer.price_amount - price, {"type": "upgrade", "license_id": license_.id,
                                           "license_number": license_.license_number,
                                           "label": upgrades.credit_label(license_, credit)})


def _resolve_upgrades(buyer: User, items: Sequence[CartItem], *, lock: bool) -> list[CartItem]:
    """Each upgrade item gets the beat of the license it names, which must be the buyer's.
    At checkout the license's row is locked: two checkouts upgrading it go one after the other."""
    resolved = []
    for position, item in enumerate(items):
        if item.upgrade_of is not None:
            license_ = upgrades.license_of_buyer(buyer, item.upgrade_of, lock=lock)
            if license_ is None:
                raise upgrades.refuse(position, "You have no license with this id to upgrade.")
            if item.beat_id and item.beat_id != license_.beat_id:
                raise upgrades.refuse(position, "An upgrade is to a license of the same beat as the license "
                                                "it replaces.")
            item = dataclasses.replace(item, beat_id=license_.beat_id)
        resolved.append(item)
    return resolved


def _resolve_proposals(buyer: User, items: Sequence[CartItem], *, lock: bool) -> list[CartItem]:
    """Each proposal item gets the beat and tier of the accepted proposal it names, which must be
    the buyer's and payable now. At checkout its row is locked: two checkouts of it go one by one."""
    resolved = []
    for position, item in enumerate(items):
        if item.proposal_id is not None:
            proposal = proposals.for_checkout(buyer, item.proposal_id, position, lock=lock)
            item = dataclasses.replace(item, beat_id=proposal.beat_id, tier_id=proposal.tier_id)
        resolved.append(item)
    return resolved


def _replace_own_upgrade_checkouts(buyer: User, items: Sequence[CartItem]) -> None:
    """A license is upgraded once: the buyer's earlier unpaid checkout upgrading the same license
    is replaced by this one (a payment made on it all the same is refunded)."""
    for item in items:
        if item.upgrade_of is not None:
            for order_id in upgrades.pending_upgrade_orders(buyer, item.upgrade_of):
                _replace_own_checkout(buyer, order_id)


def quote(buyer: User, items: Sequence[CartItem], coupon_code: str | None) -> PricedCart:
    """What checking out this cart would charge now, without placing an order: nothing is
    reserved, held or counted. An exclusive another buyer is paying for is refused as
    checkout would refuse it."""
    items = _resolve_proposals(buyer, _resolve_upgrades(buyer, items, lock=False), lock=False)
    _check_cart_shape(items)
    cart = price_cart(buyer, items, coupon_code, utcnow(), lock_coupons=False)
    live = holds.active_holds(cart.families)
    for position, (item, family_id) in enumerate(zip(cart.order_items, cart.families)):
        hold = live.get(family_id)
        if item.kind != TierKind.EXCLUSIVE or hold is None or hold.expires_at <= utcnow() - holds.HOLD_GRACE:
            continue
        if db.session.get(Order, hold.order_id).buyer_id != buyer.id:  # their own is replaced at checkout
            refused = holds.unavailable(family_id)
            refused.details["items"] = {str(position): [refused.message]}
            raise refused
    return cart


def upgrade_options(buyer: User, license_id: str) -> tuple[License, str | None, list[dict]]:
    """What the buyer's license can be upgraded to today: each higher offer of its beat with
    its price as checkout would charge it, or why it cannot be bought now. With a reason and
    no options when the license itself cannot be upgraded (revoked, superseded, expired...)."""
    license_ = upgrades.license_of_buyer(buyer, license_id)
    if license_ is None:
        raise NotFound("No such license.", code="license_not_found")
    currency = current_app.config["STORE_CURRENCY"]
    problem = upgrades.license_problem(license_, currency)
    if problem is not None:
        return license_, problem, []
    credit = upgrades.credit_of(license_)
    options = []
    offers = select(Offer).where(Offer.beat_id == license_.beat_id, Offer.active.is_(True))
    for offer in db.session.scalars(offers.order_by(Offer.price_amount, Offer.position)):
        if upgrades.target_problem(license_, offer) is not None:
            continue
        price = upgrades.upgrade_price(offer.price_amount, credit, offer.upgrade_floor_amount, currency)
        option = {"offer": offer, "credit": credit, "available": True, "reason": None, "price": price}
        try:
            with db.session.begin_nested():  # a quote changes nothing; the savepoint makes sure
                priced = quote(buyer, [CartItem(license_.beat_id, offer.tier_id, license_.id)], None)
                option["price"] = priced.total
        except AppError as refused:
            option["available"], option["reason"] = False, refused.message
        options.append(option)
    return license_, None, options


def cart_fingerprint(items: Sequence[CartItem], coupon_code: str | None) -> str:
    """The same items (in any order) with the same code give the same fingerprint."""
    cart = sorted([item.beat_id, item.tier_id, *([item.upgrade_of] if item.upgrade_of else []),
                   *([item.proposal_id] if item.proposal_id else [])] for item in items)
    return hashlib.sha256(json.dumps([cart, (coupon_code or "").strip().upper()]).encode()).hexdigest()


def _pending_order_of_cart(buyer: User, fingerprint: str) -> Order | None:
    same_cart = (Order.buyer_id == buyer.id, Order.status == OrderStatus.PENDING,
                 Order.cart_fingerprint == fingerprint)
    return db.session.scalar(select(Order).where(*same_cart))


def _check_chargeable(total: int, currency: str) -> None:
    """A total is free (no payment at all) or within what the payment provider can charge."""
    smallest = minimum_charge(currency)
    if total == 0 or smallest <= total <= MAX_CHARGE_MINOR:
        return
    if total < smallest:
        message = (f"The total after discounts, {Money(total, currency).formatted()}, is below the smallest "
                   f"payment the payment provider takes ({Money(smallest, currency).formatted()}).")
    else:
        largest = Money(MAX_CHARGE_MINOR, currency).formatted()
        message = (f"The total, {Money(total, currency).formatted()}, is above the largest payment the "
                   f"payment provider takes ({largest}): split the cart.")
    raise ValidationFailed(message, details={"total": [message]})


def _count_checkout(buyer: User) -> None:
    try:
        rate_limits().hit(current_app.config["CHECKOUT_LIMIT_PER_ACCOUNT"], "checkout", buyer.id)
    except RateLimited as limited:
        wait = limited.details["retry_after_seconds"]
        raise RateLimited(wait, f"You have started many checkouts in a short time. Try again in {wait} "
                                "seconds, or finish one of your open checkouts.") from None


def _check_coupon_guesses(buyer: User) -> None:
    try:
        rate_limits().check(current_app.config["COUPON_MISSES_PER_ACCOUNT"], "coupon-miss", buyer.id)
    except RateLimited as limited:
        wait = limited.details["retry_after_seconds"]
        raise RateLimited(wait, f"You have tried many coupon codes that do not exist. Try a code again in {wait} "
                                "seconds; your cart is kept.") from None


def _drop_own_earlier_checkout(buyer: User, beat_id: str) -> None:
    """A buyer who left a payment page open and checks out again replaces that checkout,
    instead of being locked out of their own hold."""
    hold = holds.active_holds([beat_id]).get(beat_id)
    if hold is not None:
        _replace_own_checkout(buyer, hold.order_id)


def _replace_own_checkout(buyer: User, order_id: str) -> bool:
    """Replace the buyer's own pending order `order_id`; False when it is not theirs or no
    longer pending. A bank payment settling on it keeps it (409 `payment_under_way`)."""
    earlier = db.session.get(Order, order_id, with_for_update=True)
    if earlier is None or earlier.buyer_id != buyer.id or earlier.status != OrderStatus.PENDING:
        return False
    if earlier.payment_intent_id is not None:
        raise PaymentUnderWay()  # a bank payment on the earlier page is settling: it keeps its hold
    _replace(earlier)
    return True


def _replace(earlier: Order) -> None:
    """Close a buyer's pending order in favour of a new one. Its holds and coupon uses are
    freed at once; its page is expired at the provider by a job once this commits (never while
    the buyer waits), and a payment made on it all the same is refunded."""
    states.move(earlier, OrderStatus.EXPIRED, "replaced_by_new_checkout")
    holds.release_holds(earlier.id, "replaced")
    enqueue("checkout.close_payment_page", earlier.id)
    db.session.flush()


def _reserve_coupon(buyer: User, order: Order, coupon: Coupon) -> None:
    """Reserve a use of the coupon for this order. A buyer has one reservation of a coupon at
    a time: their unpaid checkout that holds it is replaced, or, if its page cannot be
    closed, this checkout is refused."""
    earlier = coupon_uses.reserved_order_id(coupon, buyer.id)
    if earlier is not None and not _replace_own_checkout(buyer, earlier):
        raise coupon_uses.CouponReserved(details={"coupon_code": coupon.code})
    coupon_uses.reserve(order, coupon)


def _check_cart_shape(items: Sequence[CartItem]) -> None:
    if not items:
        raise ValidationFailed(details={"items": ["The cart is empty."]})
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(details={"items": [f"At most {MAX_ITEMS} items per order."]})
    beats = [item.beat_id for item in items]
    if len(set(beats)) != len(beats):
        raise ValidationFailed(details={"items": ["Each beat may appear once per order, under one license."]})


def _sellable_items(buyer: User, items: Sequence[CartItem], currency: str) -> list[tuple[Beat, Offer]]:
    """The beat and offer of every item, or the refusal of the first that cannot be bought,
    its details naming every such item by position, so a cart can mark them all at once."""
    found, problems, first = [], {}, None
    for position, item in enumerate(items):
        try:
            found.append(_sellable(buyer, item, position, currency))
        except AppError as refused:
            problems[str(position)] = [refused.message]
            first = first or refused
    if first is None:
        first = _exclusive_family_twice(found, problems)
    if first is not None:
        first.details = {**first.details, "items": problems}
        raise first
    return found


def _exclusive_family_twice(found: list[tuple[Beat, Offer]],
                            problems: dict[str, list[str]]) -> AppError | None:
    """An exclusive covers its beat's versions: a cart with the exclusive of one and any other
    line of the same family cannot be sold (and would hold the family twice)."""
    families = [beat.version_of_id or beat.id for beat, _offer in found]
    for position, (beat, offer) in enumerate(found):
        same_family = families.count(families[position]) > 1
        if offer.tier.kind == TierKind.EXCLUSIVE and same_family:
            problems[str(position)] = [
                f"The exclusive rights of “{beat.title}” cover all its versions: they cannot be in one cart "
                "with another license of the same beat. Remove one of them."]
    if not problems:
        return None
    return ValidationFailed(next(iter(problems.values()))[0])


def _sellable(buyer: User, item: CartItem, position: int, currency: str) -> tuple[Beat, Offer]:
    """The beat and offer of a cart item, if the buyer may buy them now."""
    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed(message, details={"items": {str(position): [message]}})

    beat = db.session.get(Beat, item.beat_id)
    offer = db.session.scalar(select(Offer).where(Offer.beat_id == item.beat_id, Offer.tier_id == item.tier_id))
    in_store = beat is not None and beat.status in PUBLIC_STATUSES and beat.owner.status == UserStatus.ACTIVE
    if item.proposal_id is not None and not in_store:
        raise refuse("This beat was taken out of the store: the offer agreed on it can no longer be paid.")
    if not in_store:
        raise refuse("This beat is not for sale.")
    if beat.owner_id == buyer.id:
        raise refuse("You cannot buy your own beat.")
    if offer is not None and offer.tier.kind == TierKind.EXCLUSIVE and (
            beat.status != BeatStatus.PUBLISHED or catalog.family_sold_exclusively(beat)):
        raise ExclusiveUnavailable(details={"beat_id": beat.id})
    # An agreed proposal holds even if the seller stopped offering the tier since.
    offered = offer is not None and (offer.active or item.proposal_id is not None)
    if not offered or beat.status != BeatStatus.PUBLISHED:
        raise refuse("This beat is not offered under that license.")
    priced_in = db.session.get(Proposal, item.proposal_id).currency if item.proposal_id else offer.currency
    if priced_in != currency:
        raise refuse(f"This offer is not in the store's currency ({currency}).")
    try:
        check_deliverable(beat, offer.tier, "items")
    except ValidationFailed:
        raise refuse("This license cannot be delivered for this beat.") from None
    if item.upgrade_of is not None:
        license_ = db.session.get(License, item.upgrade_of)
        problem = upgrades.license_problem(license_, currency) or upgrades.target_problem(license_, offer)
        if problem:
            raise refuse(problem)
    return beat, offer


def _coupons_for(buyer: User, code: str | None, seller_ids: set[str], currency: str,
                 now: dt.datetime, *, lock: bool = True) -> dict[str, Coupon]:
    """Each seller's usable coupon with this code, locked (for a checkout) so usage limits hold
    under races. The buyer's own reservation does not count: this checkout will replace it."""
    if not code:
        return {}
    _check_coupon_guesses(buyer)
    query = select(Coupon).where(Coupon.code == code.strip().upper(), Coupon.owner_id.in_(seller_ids))
    if lock:
        query = query.order_by(Coupon.id).with_for_update()  # one lock order: no deadlock between carts
    found = list(db.session.scalars(query))
    if not found:
        # Counted at checkout and in quotes alike: a quote costs nothing, so without this a
        # buyer could try codes until one of a seller's private ones answered.
        rate_limits().count(current_app.config["COUPON_MISSES_PER_ACCOUNT"], "coupon-miss", buyer.id)
        raise ValidationFailed(details={"coupon_code": [NO_SUCH_COUPON]})
    usable, problems = {}, []
    for coupon in found:
        own = coupon_uses.reserved_order_id(coupon, buyer.id) is not None
        problem = coupon_problem(coupon, now, currency, coupon_uses.live_uses(coupon) - int(own))
        if problem:
            problems.append(problem)
        else:
            usable[coupon.owner_id] = coupon
    if not usable:
        raise ValidationFailed(details={"coupon_code": problems})
    return usable


def open_payment_page(order: Order, buyer: User, success_url: str, cancel_url: str) -> bool:
    """Create the provider's payment page for a placed order; it closes when the holds end.
    False when a newer checkout of the buyer replaced the order meanwhile: the page is not
    handed out, and a job expires it at the provider once this commits."""
    created = payment_port().create_session(NewSession(
        order_id=order.id, currency=order.currency, expires_at=order.expires_at,
        success_url=success_url, cancel_url=cancel_url, customer_email=buyer.email,
        metadata={"order_id": order.id, "buyer_id": buyer.id},
        idempotency_key=f"checkout-session-{order.id}",
        lines=[SessionLine(name=f"{item.beat_title} ({item.tier_name})"[:250],
                           description=_line_description(item), amount=item.price_amount)
               for item in order.items]))
    order = locked_order(order.id)
    order.payment_session_id = created.id  # even when replaced: a payment on it must find its order
    if order.status != OrderStatus.PENDING:
        enqueue("checkout.close_payment_page", order.id)
        db.session.flush()
        return False
    order.checkout_url = created.url
    db.session.flush()
    return True


def _line_description(item: OrderItem) -> str:
    kind = "Exclusive rights" if item.kind == TierKind.EXCLUSIVE else "Non-exclusive lease"
    labels = [d.get("label") or f"code {d.get('code')}" for d in item.discounts]
    return kind + (f" · {', '.join(labels)}" if labels else "")


def abandon_order(order_id: str, reason: str) -> None:
    """The payment page could not be opened: the order fails and its holds are freed."""
    order = locked_order(order_id)
    if order is None or order.status != OrderStatus.PENDING:
        return
    states.move(order, OrderStatus.FAILED, reason)
    holds.release_holds(order.id, "checkout_failed")
    db.session.flush()


# -- reading orders ---------------------------------------------------------------------

def order_for(user: User, order_id: str) -> Order:
    """An order its buyer (or an admin) may see; 404 for anyone else."""
    order = db.session.get(Order, order_id)
    if order is None or not (order.buyer_id == user.id or user.has_role(Role.ADMIN)):
        raise NotFound("No such order.", code="order_not_found")
    return order


def orders_of(user: User) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.buyer_id == user.id)
                                   .order_by(Order.created_at.desc(), Order.id.desc()).limit(100)))


def licenses_by_id(orders: Sequence[Order]) -> dict[str, License]:
    ids = [item.license_id for order in orders for item in order.items if item.license_id]
    if not ids:
        return {}
    return {license_.id: license_ for license_ in db.session.scalars(select(License).where(License.id.in_(ids)))}


# -- payments arriving ------------------------------------------------------------------

def locked_order(order_id: str | None) -> Order | None:
    """The order row, locked and read afresh: fulfilments of one order (webhook, success
    page, sweep) run one after the other. A no-op UPDATE takes SQLite's write lock, which
    has no row locks, before the status is read; PostgreSQL locks the row."""
    if not order_id:
        return None
    db.session.execute(update(Order).where(Order.id == order_id).values(status=Order.status)
                       .execution_options(synchronize_session=False))
    return db.session.get(Order, order_id, with_for_update=True, populate_existing=True)


def sync_with_session(order: Order) -> Order:
    """Ask the provider how the order's payment page stands and act on it (success page, sweep)."""
    if order.status != OrderStatus.PENDING or order.payment_session_id is None:
        return order
    return apply_session(payment_port().retrieve_session(order.payment_session_id)) or order


def apply_session(session: SessionState) -> Order | None:
    """Act on a Checkout Session as the provider reports it: fulfil, wait, or expire. A payment
    that cannot be its order's (the order was closed, or has another page) is refunded."""
    order = locked_order(session.order_id)
    if order is not None and order.payment_session_id is None:
        order.payment_session_id = session.id  # the checkout died, or was replaced, before it saved the id
    if order is None or order.payment_session_id != session.id:
        log.warning("session_without_order", extra={"session_id": session.id, "order_id": session.order_id})
        if order is not None and _paid(session):
            enqueue("checkout.refund_stray_payment", session.payment_intent_id)
        return None
    if order.status != OrderStatus.PENDING:
        _refund_if_paid_after_close(order, session)  # else a duplicate, late or out-of-order event
    elif _paid(session):
        fulfil(order, session)
    elif session.status == "complete":
        _await_delayed_payment(order, session)
    elif session.status == "expired":
        states.move(order, OrderStatus.EXPIRED)
        holds.release_holds(order.id, "expired")
    if session.status == "expired" or _paid(session):
        order.session_closed_at = order.session_closed_at or utcnow()
    db.session.flush()
    return order


def _paid(session: SessionState) -> bool:
    return session.status == "complete" and session.payment_status == "paid"


def _refund_if_paid_after_close(order: Order, session: SessionState) -> None:
    """A page paid after its order closed (replaced by a newer checkout, expired, failed) is
    refunded in full, by a job once this commits; nothing is licensed."""
    if not _paid(session) or order.status not in (OrderStatus.EXPIRED, OrderStatus.FAILED) \
            or order.status_reason == "payment_mismatch":
        return
    log.warning("paid_after_checkout_closed", extra={"order_id": order.id, "status": order.status,
                                                     "reason": order.status_reason})
    order.payment_intent_id = session.payment_intent_id
    states.move(order, OrderStatus.REFUNDED, "paid_after_checkout_closed")
    holds.release_holds(order.id, "refunded")
    enqueue("checkout.refund_payment_of_closed_order", order.id)


def close_payment_page(order: Order | None) -> None:
    """Expire an order's payment page at the provider, and settle what happened on it. A
    pending order (its beat left the store) expires, saying why, or, paid just before, is
    fulfilled, which refunds what can no longer be sold. A closed order (replaced, expired)
    has a payment made there meanwhile refunded. The page counts as closed once it expired,
    or its payment is settled either way."""
    if order is None or order.payment_session_id is None or order.session_closed_at is not None:
        return
    was_pending = order.status == OrderStatus.PENDING
    try:
        payment_port().expire_session(order.payment_session_id)
    except PaymentProviderError:
        pass  # no longer open (paid, or expired already): what it is now decides below
    session = payment_port().retrieve_session(order.payment_session_id)
    apply_session(session)
    if was_pending:
        if order.status == OrderStatus.EXPIRED and order.status_reason is None:
            order.status_reason = BEAT_LEFT_STORE  # whichever of this and the expiry event came first
    elif session.status == "complete" and not _paid(session) and order.session_closed_at is None:
        intent = session.payment_intent_id
        payment = payment_port().retrieve_payment(intent) if intent else None
        if payment is None or payment.status != "processing":
            order.session_closed_at = utcnow()  # a bank payment that failed: nothing will come
    db.session.flush()


def issue_free_order(order: Order) -> None:
    """A cart discounted to nothing (a 100% coupon): nothing to charge, so no payment page;
    its licenses are issued at once."""
    order.session_closed_at = utcnow()
    _issue(order)


def _await_delayed_payment(order: Order, session: SessionState) -> None:
    """Paid by a method that settles later (a bank debit): the exclusive stays with this
    buyer until it settles, within a limit. Asked again later, the provider may say it failed."""
    if order.payment_intent_id is None:
        order.payment_intent_id = session.payment_intent_id
        order.expires_at = utcnow() + dt.timedelta(days=current_app.config["DELAYED_PAYMENT_HOLD_DAYS"])
        holds.extend_holds(order.id, order.expires_at)
        return
    payment = payment_port().retrieve_payment(order.payment_intent_id)
    if payment.status in ("requires_payment_method", "canceled"):
        _fail(order)


def fail_delayed_payment(session: SessionState) -> Order | None:
    order = locked_order(session.order_id)
    if order is None or order.payment_session_id != session.id:
        return None
    if order.status == OrderStatus.PENDING and session.payment_status != "paid":
        _fail(order)
        db.session.flush()
    return order


def _fail(order: Order) -> None:
    states.move(order, OrderStatus.FAILED, "payment_failed")
    order.session_closed_at = utcnow()  # its page was used, and its bank payment failed: nothing comes
    holds.release_holds(order.id, "payment_failed")
    enqueue("checkout.notify_payment_failed", order.id, key=f"payment-failed:{order.id}")


def fulfil(order: Order, session: SessionState) -> None:
    """Turn a paid order into licenses. Exclusives whose hold was lost are refunded instead."""
    order.payment_intent_id = session.payment_intent_id
    if session.amount_total != order.total_amount or session.currency != order.currency:
        _refuse_mismatched_payment(order, session)
        return
    _issue(order)


def _issue(order: Order) -> None:
    """The order is paid: its licenses are issued, and a dispute heard of before is applied."""
    states.move(order, OrderStatus.PAID)
    buyer = db.session.get(User, order.buyer_id)
    families = _lock_families(order)
    refused = [item for item in order.items if not _license_item(order, item, buyer, families[item.beat_id])]
    holds.release_holds(order.id, "paid")
    if refused:
        _refuse_lines(order, refused)
    enqueue("checkout.send_receipt", order.id, key=f"receipt:{order.id}")
    db.session.flush()
    signals.send(signals.ORDER_PAID, order)
    if order.early_dispute_status is not None:
        _apply_dispute(order, order.early_dispute_status)


def _lock_families(order: Order) -> dict[str, str]:
    """Each line's family (the original beat), with the families' rows locked in one order
    (by id), so two fulfilments sharing beats cannot deadlock."""
    beats = {beat.id: beat for beat in db.session.scalars(
        select(Beat).where(Beat.id.in_([item.beat_id for item in order.items])))}
    families = {beat_id: beat.version_of_id or beat.id for beat_id, beat in beats.items()}
    for family_id in sorted(set(families.values())):
        db.session.get(Beat, family_id, with_for_update=True)
    return families


class BeatLeftStore(Conflict):
    code = BEAT_LEFT_STORE
    message = "This beat left the store before the payment arrived."


def _license_item(order: Order, item: OrderItem, buyer: User, family_id: str) -> bool:
    """Issue the line's license as frozen at checkout (its kind, terms, credits and price), in
    a savepoint; False when that can no longer be sold: the beat left the store, or the
    exclusive is no longer ours."""
    try:
        with db.session.begin_nested():
            if not _still_in_store(item.beat_id):
                raise BeatLeftStore()
            if item.kind == TierKind.EXCLUSIVE and holds.hold_of(order.id, family_id) is None:
                raise ExclusiveUnavailable()
            base = _base_of_upgrade(item)
            if item.proposal_id is not None:
                proposals.mark_paid(item.proposal_id)
            license_ = issue_license(Sale(
                reference=item.id, beat_id=item.beat_id, tier_id=item.tier_id, buyer=buyer,
                price_amount=item.price_amount, currency=order.currency, terms=item.terms,
                checkout_started_at=order.created_at, kind=item.kind, credits=item.credits))
            if base is not None and license_.upgrade_of_id is None:
                try:
                    upgrades.supersede(base, license_)
                except IntegrityError:
                    raise upgrades.UpgradeUnavailable() from None  # another upgrade of it stands
    except (BeatLeftStore, ExclusiveUnavailable, upgrades.UpgradeUnavailable,
            proposals.ProposalUnavailable) as refused:
        previous_status = item.status
        item.status, item.refund_reason = ItemStatus.REFUNDED, refused.code
        signals.send(signals.LINE_REFUNDED, order, item=item, previous_status=previous_status)
        return False
    item.status, item.license_id = ItemStatus.LICENSED, license_.id
    return True


def _base_of_upgrade(item: OrderItem) -> License | None:
    """The license an upgrade line replaces, locked, if it still stands as it did at checkout:
    not upgraded by another payment, refunded or disputed since."""
    if item.upgrade_of_license_id is None:
        return None
    base = db.session.get(License, item.upgrade_of_license_id, with_for_update=True, populate_existing=True)
    if base.status != LicenseStatus.ACTIVE or base.superseded_by_id is not None or base.frozen_at is not None:
        raise upgrades.UpgradeUnavailable()
    return base


def _still_in_store(beat_id: str) -> bool:
    """Whether the beat is still in the store, read under its row's lock (the family's is
    held already): a takedown, an archive, a review or its owner's suspension since the
    checkout means no sale. A beat sold exclusively meanwhile is still in the store for
    the leases checked out before (the licensing rules decide those)."""
    beat = db.session.get(Beat, beat_id, with_for_update=True, populate_existing=True)
    return beat.status in PUBLIC_STATUSES and beat.owner.status == UserStatus.ACTIVE


def _refuse_lines(order: Order, refused: list[OrderItem]) -> None:
    """Lines paid for but not licensable are refunded by a job once this commits: a refund
    never depends on, nor is lost with, this transaction."""
    if all(item.status == ItemStatus.REFUNDED for item in order.items):
        reasons = {item.refund_reason for item in order.items}
        states.move(order, OrderStatus.REFUNDED, reasons.pop() if len(reasons) == 1 else "lines_refused")
    log.warning("lines_refused", extra={"order_id": order.id, "items": [item.id for item in refused],
                                        "reasons": sorted({item.refund_reason for item in refused})})
    enqueue("checkout.refund_refused_lines", order.id)


def refund_refused_lines(order: Order) -> None:
    """Refund each refused or refunded line once (a lost exclusive, an admin's or moderation's line
    refund): one idempotency key per line, whatever happens around it."""
    for item in order.items:
        if item.status != ItemStatus.REFUNDED or item.refund_id or item.refund_error or not item.price_amount:
            continue
        try:
            item.refund_id = payment_port().refund(
                order.payment_intent_id, item.price_amount, currency=order.currency,
                idempotency_key=f"refund-line-{item.id}",
                metadata={"order_id": order.id, "order_item_id": item.id, "reason": item.refund_reason})
        except PaymentProviderError as refused:
            item.refund_error = refused.details.get("provider_code") or refused.code
            log.error("line_refund_refused", extra={"order_id": order.id, "item_id": item.id,
                                                    "reason": item.refund_error})
            continue
        order.refunded_amount = min(order.total_amount, max(order.refunded_amount, _refunded_lines(order)))
        db.session.flush()


def _refunded_lines(order: Order) -> int:
    return sum(item.price_amount for item in order.items if item.refund_id)


def _refuse_mismatched_payment(order: Order, session: SessionState) -> None:
    """A payment for another amount than the order's is never fulfilled; it is given back."""
    log.error("payment_mismatch", extra={"order_id": order.id, "expected": order.total_amount,
                                         "currency": order.currency, "paid": session.amount_total,
                                         "paid_currency": session.currency})
    previous_status = order.status
    states.move(order, OrderStatus.FAILED, "payment_mismatch")
    signals.send(signals.PAYMENT_REFUSED, order, previous_status=previous_status)
    holds.release_holds(order.id, "payment_mismatch")
    enqueue("checkout.refund_mismatched_payment", order.id)
    db.session.flush()


def refund_mismatched_payment(order: Order) -> None:
    """Give back whatever is left of a payment that did not match its order."""
    _refund_rest(order, f"refund-mismatch-{order.id}")


def refund_payment_of_closed_order(order: Order) -> None:
    """Give back a payment made on the page of an order that was no longer pending."""
    _refund_rest(order, f"refund-closed-{order.id}")


def _refund_rest(order: Order, idempotency_key: str) -> None:
    if order.refund_requested_at is not None:
        return
    payment = payment_port().retrieve_payment(order.payment_intent_id)
    left = payment.amount - payment.amount_refunded
    if left > 0:
        payment_port().refund(payment.payment_intent_id, left, currency=payment.currency,
                              idempotency_key=idempotency_key,
                              metadata={"order_id": order.id, "reason": order.status_reason or "refund"})
    order.refund_requested_at = utcnow()
    db.session.flush()


# -- a beat leaving the store --------------------------------------------------------------

def close_checkouts_of_beat(beat: Beat) -> list[str]:
    """The beat leaves the store (a takedown, an archive, a review): its open checkouts end.
    Catalogue and moderation call this in the transaction that moves the beat."""
    return _close_checkouts(OrderItem.beat_id == beat.id)


def close_checkouts_of_seller(seller_id: str) -> list[str]:
    """The seller is suspended: every open checkout of their beats ends, even of a beat sold
    exclusively (its leases checked out before the sale could still be paid)."""
    return _close_checkouts(OrderItem.seller_id == seller_id)


def close_checkouts_of_buyer(buyer_id: str) -> list[str]:
    """The buyer closed their account: their open checkouts end, and what they held is free."""
    return _close_checkouts(Order.buyer_id == buyer_id)


def _close_checkouts(line_filter: ColumnElement[bool]) -> list[str]:
    """Release the holds of the pending orders with such a line now, and close their payment
    pages at the provider by a job once this commits: a network call has no place in this
    transaction. A payment that arrives anyway (the page was being paid, or the job never
    ran) is refunded at fulfilment."""
    order_ids = list(db.session.scalars(
        select(Order.id).join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.status == OrderStatus.PENDING, line_filter).distinct().order_by(Order.id)))
    for order_id in order_ids:
        holds.release_holds(order_id, BEAT_LEFT_STORE)
        enqueue("checkout.close_payment_page", order_id)
    db.session.flush()
    return order_ids


def refund_stray_payment(payment_intent_id: str) -> None:
    """A payment on a page that is not its order's (there is no order row to record it on):
    whatever is left of it is given back."""
    payment = payment_port().retrieve_payment(payment_intent_id)
    left = payment.amount - payment.amount_refunded
    if left > 0 and payment.status == "succeeded" and not payment.disputed:
        log.warning("stray_payment_refunded", extra={"payment_intent": payment_intent_id, "amount": left})
        payment_port().refund(payment_intent_id, left, currency=payment.currency,
                              idempotency_key=f"refund-stray-{payment_intent_id}",
                              metadata={"order_id": payment.order_id or "", "reason": "stray_payment"})


# -- after the payment: refunds and disputes ---------------------------------------------

def order_of_payment(payment: PaymentState) -> Order | None:
    order = locked_order(payment.order_id)
    if order is None or order.payment_intent_id not in (None, payment.payment_intent_id):
        log.warning("payment_without_order", extra={"payment_intent": payment.payment_intent_id})
        return None
    return order


def record_refund(payment: PaymentState) -> Order | None:
    """The provider refunded (part of) a payment. A full refund revokes every license."""
    order = order_of_payment(payment)
    if order is None:
        return None
    order.payment_intent_id = payment.payment_intent_id
    order.refunded_amount = max(order.refunded_amount, min(payment.amount_refunded, order.total_amount))
    if payment.amount_refunded < payment.amount:
        db.session.flush()
        if order.status in (OrderStatus.PAID, OrderStatus.DISPUTED):
            # Ours (a line) or not (Stripe's dashboard): payouts tells them apart by the lines.
            signals.send(signals.PAYMENT_PARTLY_REFUNDED, order)
        return order
    for license_ in _licenses_of(order):
        revoke_license(license_, "refund")
    holds.release_holds(order.id, "refunded")
    if order.status == OrderStatus.PENDING:
        # Refunded before we fulfilled it (events out of order): no license is ever issued.
        states.move(order, OrderStatus.REFUNDED, "refunded_before_fulfilment")
    elif order.status in (OrderStatus.PAID, OrderStatus.DISPUTED):
        states.move(order, OrderStatus.REFUNDED, order.status_reason or "refunded")
        db.session.flush()
        signals.send(signals.ORDER_REFUNDED, order)
    db.session.flush()
    return order


DISPUTE_WON = ("won", "warning_closed")  # a closed inquiry never became a chargeback


def record_dispute(payment: PaymentState, dispute_status: str) -> Order | None:
    """A dispute as it stands now. Open: downloads freeze. Won: they thaw and the order goes
    back to what it was. Lost: the licenses are revoked. Heard of before the payment was
    fulfilled (a bank payment settling, events out of order), it is kept and applied then."""
    order = order_of_payment(payment)
    if order is None or order.status in (OrderStatus.FAILED, OrderStatus.EXPIRED):
        return order
    if order.status == OrderStatus.PENDING:
        order.early_dispute_status = dispute_status
        db.session.flush()
        return order
    _apply_dispute(order, dispute_status)
    return order


def _apply_dispute(order: Order, dispute_status: str) -> None:
    licenses = _licenses_of(order)
    if dispute_status in DISPUTE_WON:
        if order.status == OrderStatus.DISPUTED:
            fully_refunded = order.refunded_amount >= order.total_amount
            states.move(order, OrderStatus.REFUNDED if fully_refunded else OrderStatus.PAID, "dispute_won")
            signals.send(signals.DISPUTE_WON, order)
        for license_ in licenses:
            unfreeze_license(license_)
    else:
        if order.status != OrderStatus.DISPUTED:
            states.move(order, OrderStatus.DISPUTED, "dispute_opened")
            signals.send(signals.DISPUTE_OPENED, order)
        for license_ in licenses:
            freeze_license(license_)
        if dispute_status == "lost" and order.status_reason != "dispute_lost":
            order.status_reason = "dispute_lost"
            for license_ in licenses:
                revoke_license(license_, "chargeback")
            signals.send(signals.DISPUTE_LOST, order)
    db.session.flush()


def _licenses_of(order: Order) -> list[License]:
    ids = [item.license_id for item in order.items if item.license_id]
    return list(db.session.scalars(select(License).where(License.id.in_(ids)))) if ids else []


def request_refund(order: Order) -> Order:
    """An admin refunds a paid order in full. The licenses are revoked when the provider
    confirms (the refund event); asking twice asks the provider once."""
    order = locked_order(order.id)
    if order.status == OrderStatus.REFUNDED or order.refund_requested_at is not None:
        return order
    if order.status != OrderStatus.PAID:
        raise Conflict(f"An order that is {order.status} cannot be refunded.", code="order_not_refundable")
    amount = _left_to_refund(order)
    if amount <= 0:
        raise Conflict("Nothing is left to refund on this order.", code="order_not_refundable")
    # The amount is part of the key: a retry after a line refund asks for what is left.
    payment_port().refund(order.payment_intent_id, amount, currency=order.currency,
                          idempotency_key=f"refund-admin-{order.id}-{amount}",
                          metadata={"order_id": order.id, "reason": "admin_refund"})
    order.refund_requested_at = utcnow()
    signals.send(signals.REFUND_REQUESTED, order)
    db.session.flush()
    return order


def _left_to_refund(order: Order) -> int:
    """What the provider can still give back, less the line refunds decided but not made yet."""
    decided = sum(item.price_amount for item in order.items
                  if item.status == ItemStatus.REFUNDED and not item.refund_id and not item.refund_error)
    return order.total_amount - order.refunded_amount - decided


class RefundSplitsDeal(Conflict):
    code = "refund_splits_deal"


def refund_lines(order: Order, item_ids: Sequence[str], reason: str, *,
                 whole_deals: bool = False) -> list[OrderItem]:
    """Refund some licensed lines of a paid order: each one's license is revoked at once, its
    shares are taken back (payouts), and a job refunds its price at the provider (one refund per
    line, with the line's own key). Lines bought together under a bulk deal go together: naming
    only some of them is refused, unless `whole_deals` (moderation), which refunds the whole group.
    When no licensed line is left, the order is refunded."""
    order = locked_order(order.id)
    if order.status != OrderStatus.PAID:
        raise Conflict(f"An order that is {order.status} cannot be refunded.", code="order_not_refundable")
    if order.refund_requested_at is not None:
        raise Conflict("A refund of the whole order was already asked for.", code="order_not_refundable")
    chosen = _refundable_lines(order, item_ids)
    groups = [group for group in deal_groups(order) if any(item in chosen for item in group)]
    missing = [item for group in groups for item in group
               if item not in chosen and item.status == ItemStatus.LICENSED]
    if missing and not whole_deals:
        together = [item.id for group in groups for item in group]
        raise RefundSplitsDeal(
            "These lines were bought together under a bulk deal and are refunded together: "
            f"name all of them ({', '.join(together)}).", details={"items_together": together})
    chosen += missing
    amount, left = sum(item.price_amount for item in chosen), _left_to_refund(order)
    if amount > left:
        raise Conflict(f"Only {left} is left to refund on this order; these lines cost {amount}.",
                       code="order_not_refundable")
    licenses = {license_.id: license_ for license_ in _licenses_of(order)}
    for item in chosen:
        previous_status = item.status
        item.status, item.refund_reason = ItemStatus.REFUNDED, reason
        signals.send(signals.LINE_REFUNDED, order, item=item, previous_status=previous_status)
        revoke_license(licenses[item.license_id], "refund")
    db.session.flush()
    if not any(item.status == ItemStatus.LICENSED for item in order.items):
        states.move(order, OrderStatus.REFUNDED, reason)
        db.session.flush()
        signals.send(signals.ORDER_REFUNDED, order)
    else:
        signals.send(signals.LINES_REFUNDED, order)
    enqueue("checkout.refund_refused_lines", order.id)
    enqueue("checkout.send_refund_receipt", order.id, [item.id for item in chosen],
            key=f"refund-receipt:{order.id}:{','.join(sorted(item.id for item in chosen))}")
    db.session.flush()
    return chosen


def _refundable_lines(order: Order, item_ids: Sequence[str]) -> list[OrderItem]:
    by_id = {item.id: item for item in order.items}
    unknown = [item_id for item_id in item_ids if item_id not in by_id]
    if unknown or not item_ids:
        raise ValidationFailed(details={"items": [f"No line of this order has the id {unknown[0]}." if unknown
                                                  else "Name at least one line."]})
    named = list(dict.fromkeys(item_ids))  # each once, in the order given
    not_licensed = [item_id for item_id in named if by_id[item_id].status != ItemStatus.LICENSED]
    if not_licensed:
        raise Conflict(f"Line {not_licensed[0]} has no license to refund (it was refunded already).",
                       code="line_not_refundable", details={"items": not_licensed})
    return [by_id[item_id] for item_id in named]


def deal_groups(order: Order) -> list[list[OrderItem]]:
    """The lines of each "buy N get M free" group of the order, found as pricing formed them:
    each deal's leases of its seller, dearest first (cart order on a tie), in groups of N+M."""
    deal_ids = sorted({discount["deal_id"] for item in order.items for discount in item.discounts
                       if discount.get("type") == "deal" and discount.get("deal_id")})
    groups = []
    for deal in (db.session.get(BulkDeal, deal_id) for deal_id in deal_ids):
        if deal is None:
            continue
        leases = sorted((item for item in order.items if item.seller_id == deal.owner_id
                         and item.kind == TierKind.LEASE and item.upgrade_of_license_id is None),
                        key=lambda item: (-item.list_price_amount, item.position))
        size = deal.buy_count + deal.free_count
        groups += [leases[start:start + size] for start in range(0, len(leases) - size + 1, size)]
    return groups


def orders_to_check(now: dt.datetime, grace: dt.timedelta) -> list[str]:
    """Pending orders whose payment page closed a while ago: a webhook may have been lost."""
    return list(db.session.scalars(select(Order.id).where(Order.status == OrderStatus.PENDING,
                                                          Order.expires_at < now - grace)
                                   .order_by(Order.expires_at).limit(500)))


def settle_stale_order(order: Order) -> Order:
    """The sweep's step for one order: ask the provider, or fail an order that never got a
    payment page (its checkout died before saving it)."""
    if order.payment_session_id is not None:
        return sync_with_session(order)
    order = locked_order(order.id)
    if order.status == OrderStatus.PENDING and order.payment_session_id is None:
        states.move(order, OrderStatus.FAILED, "checkout_interrupted")
        holds.release_holds(order.id, "checkout_failed")
        db.session.flush()
    return order


def lines_to_refund() -> list[str]:
    """Orders with a refused line whose refund job did not finish, and mismatched payments
    not yet given back."""
    lines = select(OrderItem.order_id).where(OrderItem.status == ItemStatus.REFUNDED, OrderItem.refund_id.is_(None),
                                             OrderItem.refund_error.is_(None), OrderItem.price_amount > 0)
    return list(db.session.scalars(lines.distinct().limit(500)))


def mismatches_to_refund() -> list[str]:
    return list(db.session.scalars(select(Order.id).where(
        Order.status_reason == "payment_mismatch", Order.refund_requested_at.is_(None)).limit(500)))


def closed_orders_paid_to_refund() -> list[str]:
    return list(db.session.scalars(select(Order.id).where(
        Order.status_reason == "paid_after_checkout_closed", Order.refund_requested_at.is_(None)).limit(500)))


def pages_to_close() -> list[str]:
    """Orders no longer pending whose payment page is not known to be closed: a replaced
    order's page, whose expiry job did not finish, and whatever happened on it."""
    return list(db.session.scalars(select(Order.id).where(
        Order.status.in_((OrderStatus.EXPIRED, OrderStatus.FAILED)), Order.payment_session_id.is_not(None),
        Order.session_closed_at.is_(None)).order_by(Order.closed_at).limit(500)))
