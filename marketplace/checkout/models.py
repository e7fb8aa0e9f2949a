"""Orders, their lines, exclusive holds, coupons and bulk deals.

An order freezes at checkout what the buyer is asked to pay: each line's list price, its
discount, the price paid and the license terms. Nothing here is recomputed after checkout.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    LICENSED = "licensed"
    # Paid, but the exclusive was lost before the payment arrived (refunded automatically), or
    # licensed and then refunded on its own (an admin, moderation): see refund_reason.
    REFUNDED = "refunded"


class CouponKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(sql_in(OrderStatus, "status"), name="status"),
        CheckConstraint("subtotal_amount >= 0 AND discount_amount >= 0 AND total_amount >= 0",
                        name="amounts_not_negative"),
        CheckConstraint("discount_amount <= subtotal_amount", name="discount_within_subtotal"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total_amount", name="refund_within_total"),
        # The sweep looks for pending orders whose payment page has closed.
        Index("ix_orders_pending_expires_at", "expires_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        # The same cart sent twice at once (a double click, a client retry) makes one order.
        Index("uq_orders_one_pending_per_cart", "buyer_id", "cart_fingerprint", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("ord"))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING)
    # Why the order is in its status when that is not obvious (e.g. "exclusive_unavailable").
    status_reason: Mapped[str | None] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    payment_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    checkout_url: Mapped[str | None] = mapped_column(String(2000))
    # What was asked for (the buyer's items and coupon code), so an identical cart finds this order.
    cart_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # When the provider's payment page was known to be closed (expired, or paid and settled);
    # until then a closed order's page is asked about again, and a payment on it is refunded.
    session_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A dispute heard of before the payment was fulfilled: applied at fulfilment.
    early_dispute_status: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refund_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    receipt_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[OrderItem]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                  order_by="OrderItem.position")


class OrderItem(Base):
    """One line: a beat under a tier, with its price and terms frozen at checkout."""

    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "beat_id", "tier_id"),
        CheckConstraint(sql_in(ItemStatus, "status"), name="status"),
        CheckConstraint("list_price_amount > 0 AND discount_amount >= 0 AND price_amount >= 0",
                        name="amounts_valid"),
        CheckConstraint("price_amount + discount_amount = list_price_amount", name="price_adds_up"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("oli"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("license_tiers.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.PENDING)
    beat_title: Mapped[str] = mapped_column(String(120))
    tier_name: Mapped[str] = mapped_column(String(60))
    list_price_amount: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    # How the discount came about, e.g. [{"type": "coupon", "code": "SUMMER", "amount": 500}].
    discounts: Mapped[list] = mapped_column(JSON, default=list)
    coupon_id: Mapped[str | None] = mapped_column(ForeignKey("coupons.id"), index=True)
    terms: Mapped[dict] = mapped_column(JSON)
    # Who made the beat and shares in its sales, frozen with the terms (None on lines of
    # orders placed before credits were frozen: their licenses take the beat's at issue).
    credits: Mapped[list | None] = mapped_column(JSON)
    license_id: Mapped[str | None] = mapped_column(ForeignKey("licenses.id"), unique=True)
    # An upgrade line names the buyer's license it replaces; its price is the tier's price less
    # what was paid for that license (frozen here, as every price is at checkout).
    upgrade_of_license_id: Mapped[str | None] = mapped_column(ForeignKey("licenses.id"), index=True)
    # A private checkout's line names the accepted proposal whose agreed price it charges.
    proposal_id: Mapped[str | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    refund_reason: Mapped[str | None] = mapped_column(String(60))
    # A refused line is refunded by a job after the fulfilment commits: its refund's id once
    # the provider made it, or why the provider would not.
    refund_id: Mapped[str | None] = mapped_column(String(255))
    refund_error: Mapped[str | None] = mapped_column(String(100))


class ExclusiveHold(Base):
    """A beat's exclusive rights kept for one checkout while its payment page is open.

    One active hold per beat, ever: the partial unique index is what holds under races.
    A hold ends (released_at) when its order is paid, fails, expires, or a later checkout
    finds it past its expiry and takes its place.
    """

    __tablename__ = "exclusive_holds"
    __table_args__ = (
        Index("uq_exclusive_holds_one_active_per_beat", "beat_id", unique=True,
              postgresql_where=text("released_at IS NULL"), sqlite_where=text("released_at IS NULL")),
        # A buyer's active holds each take one of their numbered slots (1 to the cap in the
        # settings): the cap holds under races because two holds cannot share a slot.
        Index("uq_exclusive_holds_one_active_per_buyer_slot", "buyer_id", "slot", unique=True,
              postgresql_where=text("released_at IS NULL"), sqlite_where=text("released_at IS NULL")),
        Index("ix_exclusive_holds_buyer_beat", "buyer_id", "beat_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("hld"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # The order's buyer, and which of their slots the hold takes (empty on holds taken
    # before the cap existed).
    buyer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    slot: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str | None] = mapped_column(String(40))


class Coupon(Base):
    """A beatmaker's discount code: on all their beats, or on one."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("owner_id", "code"),
        CheckConstraint(sql_in(CouponKind, "kind"), name="kind"),
        CheckConstraint("(kind = 'percent' AND percent_off BETWEEN 1 AND 100 AND amount_off IS NULL) OR "
                        "(kind = 'fixed' AND amount_off > 0 AND percent_off IS NULL)", name="discount_valid"),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="max_redemptions_positive"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("cpn"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # stored upper-case
    kind: Mapped[str] = mapped_column(String(16))
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    beat_id: Mapped[str | None] = mapped_column(ForeignKey("beats.id"))  # None: every beat of the owner
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouponRedemption(Base):
    """One use of a coupon by one order: reserved while the order is pending, redeemed when it
    is paid, released (no longer counted) when it expires, fails or is replaced.

    Two partial unique indexes hold under races: a buyer has at most one reservation of a
    coupon at a time, and a coupon with a redemption limit has that many numbered seats, each
    taken by at most one live (reserved or redeemed) use.
    """

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        UniqueConstraint("coupon_id", "order_id"),
        CheckConstraint("seat IS NULL OR seat >= 1", name="seat_positive"),
        Index("uq_coupon_redemptions_one_reservation_per_buyer", "coupon_id", "buyer_id", unique=True,
              postgresql_where=text("released_at IS NULL AND redeemed_at IS NULL"),
              sqlite_where=text("released_at IS NULL AND redeemed_at IS NULL")),
        Index("uq_coupon_redemptions_one_use_per_seat", "coupon_id", "seat", unique=True,
              postgresql_where=text("released_at IS NULL"), sqlite_where=text("released_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("red"))
    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Which of the coupon's max_redemptions uses this is; empty for a coupon without a limit.
    seat: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BulkDeal(Base):
    """"Buy N get M free" on one beatmaker's leases: in each group of N+M leases of a cart,
    the M cheapest are free."""

    __tablename__ = "bulk_deals"
    __table_args__ = (
        CheckConstraint("buy_count >= 1 AND free_count >= 1", name="counts_positive"),
        # One deal per beatmaker keeps what a buyer gets predictable.
        Index("uq_bulk_deals_one_active_per_owner", "owner_id", unique=True,
              postgresql_where=text("active"), sqlite_where=text("active")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("deal"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    buy_count: Mapped[int] = mapped_column(Integer)
    free_count: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
