"""Price proposals: proposing, answering, expiring, and the private checkout's checks.

Every step locks the proposal's row, so two answers at once (the seller accepting while the
artist withdraws) go one after the other and the second sees the first. Every step mails the
other party once it commits. Services never commit: the request or the job does.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.money import MAX_PRICE_MINOR, Money, minimum_charge, stripe_amount_problem
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, RateLimited, ValidationFailed
from marketplace.licensing.models import LicenseTier, Offer, TierKind
from marketplace.mail.messages import public_base_url
from marketplace.mail.tasks import mail_user
from marketplace.proposals.models import Proposal, ProposalStatus, ProposalTerms


class ProposalUnavailable(Conflict):
    """At fulfilment: the proposal was paid by another order, or ended, before this payment
    arrived: the line is refunded."""

    code = "proposal_unavailable"
    message = "This proposal was already paid, or ended, before the payment arrived."


def _hours(setting: str) -> dt.timedelta:
    return dt.timedelta(hours=current_app.config[setting])


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).formatted()


def _field(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={name: [message]})


# -- terms per tier ------------------------------------------------------------------------------

def terms_of(tier: LicenseTier) -> tuple[bool, int]:
    """Whether the tier takes proposals, and the seller's minimum (0: none of their own)."""
    terms = db.session.get(ProposalTerms, tier.id)
    if terms is None:
        return tier.kind == TierKind.EXCLUSIVE, 0
    return terms.open, terms.minimum_amount


def tiers_with_terms(seller: User) -> list[tuple[LicenseTier, bool, int]]:
    tiers = db.session.scalars(select(LicenseTier).where(
        LicenseTier.owner_id == seller.id, LicenseTier.archived_at.is_(None)).order_by(LicenseTier.position))
    return [(tier, *terms_of(tier)) for tier in tiers]


def set_terms(seller: User, tier_id: str, open_: bool, minimum: int) -> LicenseTier:
    tier = db.session.get(LicenseTier, tier_id)
    if tier is None or tier.owner_id != seller.id:
        raise NotFound("No such tier of yours.", code="tier_not_found")
    if minimum:
        _check_amount("minimum_amount", minimum, tier.currency, "minimum")
    terms = db.session.get(ProposalTerms, tier.id) or ProposalTerms(tier_id=tier.id)
    terms.open, terms.minimum_amount = open_, minimum
    db.session.add(terms)
    db.session.flush()
    return tier


def _check_amount(field: str, amount: int, currency: str, what: str) -> None:
    """An amount people name must be chargeable as it is: at least the payment provider's
    smallest charge, at most its largest, in the steps it charges in."""
    smallest = minimum_charge(currency)
    if amount < smallest:
        raise _field(field, f"The {what} must be at least {_money(smallest, currency)}, the smallest payment "
                            "the payment provider takes.")
    if amount > MAX_PRICE_MINOR:
        raise _field(field, f"The {what} may be at most {_money(MAX_PRICE_MINOR, currency)}.")
    problem = stripe_amount_problem(amount, currency)
    if problem:
        raise _field(field, problem)


# -- proposing ---------------------------------------------------------------------------------

def propose(artist: User, beat_id: str, tier_id: str, amount: int, message: str) -> Proposal:
    _count_proposal(artist)
    beat = db.session.get(Beat, beat_id)
    if beat is None or beat.status != BeatStatus.PUBLISHED or beat.owner.status != UserStatus.ACTIVE:
        raise NotFound("This beat is not in the store.", code="beat_not_found")
    if beat.owner_id == artist.id:
        raise Conflict("You cannot make an offer on your own beat.", code="own_beat")
    offer = db.session.scalar(select(Offer).where(Offer.beat_id == beat.id, Offer.tier_id == tier_id,
                                                  Offer.active.is_(True)))
    if offer is None:
        raise _field("tier_id", "This beat is not offered under that license.")
    open_, minimum = terms_of(offer.tier)
    if not open_:
        raise _field("tier_id", f"The seller does not take offers on the {offer.tier.name} license.")
    if offer.tier.kind == TierKind.EXCLUSIVE and catalog.family_sold_exclusively(beat):
        raise Conflict("The exclusive rights of this beat were sold: offers on them are closed.",
                       code="exclusive_sold")
    currency = offer.currency
    _check_amount("amount", amount, currency, "offer")
    if amount < minimum:
        raise _field("amount", f"The seller takes offers on this license from {_money(minimum, currency)}: "
                               f"{_money(amount, currency)} is below that.")
    now = utcnow()
    proposal = Proposal(beat_id=beat.id, tier_id=offer.tier_id, artist_id=artist.id, seller_id=beat.owner_id,
                        currency=currency, amount=amount, message=message.strip(),
                        expires_at=now + _hours("PROPOSAL_HOURS"))
    _take_slot(artist, proposal)
    _notify(proposal, proposal.seller_id, "new")
    return proposal


def _count_proposal(artist: User) -> None:
    try:
        rate_limits().hit(current_app.config["PROPOSAL_LIMIT_PER_ACCOUNT"], "proposal", artist.id)
    except RateLimited as limited:
        wait = limited.details["retry_after_seconds"]
        raise RateLimited(wait, f"You have made many offers in a short time. Try again in {wait} "
                                "seconds.") from None


def _take_slot(artist: User, proposal: Proposal) -> None:
    """Insert the proposal in one of the artist's free slots; the unique indexes refuse a
    second open proposal on the beat, or more than the cap, even from requests racing."""
    cap = current_app.config["PROPOSALS_OPEN_PER_ARTIST"]
    for _attempt in range(cap):
        if _open_on_beat(artist.id, proposal.beat_id) is not None:
            raise Conflict("You already have an open offer on this beat: wait for its answer, or withdraw it "
                           "first.", code="proposal_already_open")
        taken = set(db.session.scalars(select(Proposal.slot).where(
            Proposal.artist_id == artist.id, Proposal.slot.is_not(None))))
        free = [slot for slot in range(1, cap + 1) if slot not in taken]
        if not free:
            break
        proposal.slot = free[0]
        try:
            with db.session.begin_nested():
                db.session.add(proposal)
            return
        except IntegrityError:
            continue  # another request of the artist took the slot or the beat: look again
    raise Conflict(f"You have {cap} open offers, as many as one artist may at once. Wait for an answer, "
                   "or withdraw one.", code="too_many_open_proposals", details={"open_proposals_limit": cap})


def _open_on_beat(artist_id: str, beat_id: str) -> Proposal | None:
    return db.session.scalar(select(Proposal).where(
        Proposal.artist_id == artist_id, Proposal.beat_id == beat_id, Proposal.slot.is_not(None)))


# -- answering ---------------------------------------------------------------------------------

def proposal_for(user: User, proposal_id: str, *, lock: bool = False) -> Proposal:
    """The proposal, if the user is its artist or its seller (anyone else's is unknown)."""
    proposal = db.session.get(Proposal, proposal_id, with_for_update=lock or None, populate_existing=lock)
    if proposal is None or user.id not in (proposal.artist_id, proposal.seller_id):
        raise NotFound("No such offer.", code="proposal_not_found")
    return proposal


def _waiting_for(proposal: Proposal, user: User) -> None:
    """Refuse, in words, an answer from someone the proposal does not wait for."""
    now = utcnow()
    if proposal.status in (ProposalStatus.OPEN, ProposalStatus.COUNTERED) and proposal.expires_at <= now:
        _close(proposal, ProposalStatus.EXPIRED, "expired")
        raise Conflict("This offer has expired.", code="proposal_expired")
    waits_for = {ProposalStatus.OPEN: proposal.seller_id, ProposalStatus.COUNTERED: proposal.artist_id}
    if proposal.status not in waits_for:
        raise Conflict(f"This offer is {proposal.status}: there is nothing to answer.",
                       code="proposal_closed")
    if waits_for[proposal.status] != user.id:
        raise Conflict("This offer waits for the other party's answer.", code="not_your_turn")


def accept(user: User, proposal_id: str) -> Proposal:
    """The seller accepts the artist's price, or the artist the seller's counter."""
    proposal = proposal_for(user, proposal_id, lock=True)
    _waiting_for(proposal, user)
    countered = proposal.status == ProposalStatus.COUNTERED
    proposal.agreed_amount = proposal.counter_amount if countered else proposal.amount
    proposal.status = ProposalStatus.ACCEPTED
    proposal.checkout_until = utcnow() + _hours("PROPOSAL_CHECKOUT_HOURS")
    _notify(proposal, proposal.seller_id if countered else proposal.artist_id, "accepted")
    return proposal


def decline(user: User, proposal_id: str) -> Proposal:
    proposal = proposal_for(user, proposal_id, lock=True)
    _waiting_for(proposal, user)
    other = proposal.seller_id if user.id == proposal.artist_id else proposal.artist_id
    _close(proposal, ProposalStatus.DECLINED, "declined")
    _notify(proposal, other, "declined")
    return proposal


def counter(seller: User, proposal_id: str, amount: int, message: str) -> Proposal:
    proposal = proposal_for(seller, proposal_id, lock=True)
    if proposal.seller_id != seller.id:
        raise Conflict("Only the seller counters an offer; accept or decline the counter.",
                       code="not_your_turn")
    _waiting_for(proposal, seller)
    _check_amount("amount", amount, proposal.currency, "counter-offer")
    proposal.counter_amount, proposal.counter_message = amount, message.strip()
    proposal.status = ProposalStatus.COUNTERED
    proposal.expires_at = utcnow() + _hours("PROPOSAL_HOURS")
    _notify(proposal, proposal.artist_id, "countered")
    return proposal


def withdraw(artist: User, proposal_id: str) -> Proposal:
    proposal = proposal_for(artist, proposal_id, lock=True)
    if proposal.artist_id != artist.id:
        raise Conflict("Only the artist who made an offer withdraws it; decline it instead.",
                       code="not_your_turn")
    if not proposal.is_open:
        raise Conflict(f"This offer is {proposal.status}: there is nothing to withdraw.",
                       code="proposal_closed")
    _close(proposal, ProposalStatus.WITHDRAWN, "withdrawn")
    _notify(proposal, proposal.seller_id, "withdrawn")
    return proposal


def _close(proposal: Proposal, status: ProposalStatus, reason: str) -> None:
    proposal.status, proposal.slot, proposal.closed_reason = status, None, reason
    db.session.flush()


def _notify(proposal: Proposal, user_id: str, step: str) -> None:
    """Mail `user_id` what happened to the proposal, once the step commits."""
    db.session.flush()
    to_artist = user_id == proposal.artist_id
    amount = proposal.agreed_amount or proposal.counter_amount or proposal.amount
    if step == "new":
        amount = proposal.amount
    mail_user("proposal_update", user_id, {
        "step": step, "title": proposal.beat.title, "tier": proposal.tier.name,
        "amount": _money(amount, proposal.currency), "to_artist": to_artist,
        "message": {"countered": proposal.counter_message, "new": proposal.message}.get(step) or "",
        "link": f"{public_base_url()}{'/library/offers' if to_artist else '/studio/offers'}"})


# -- lists -------------------------------------------------------------------------------------

def proposals_of_artist(artist: User) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.artist_id == artist.id)
                                   .order_by(Proposal.created_at.desc(), Proposal.id)))


def proposals_to_seller(seller: User) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.seller_id == seller.id)
                                   .order_by(Proposal.created_at.desc(), Proposal.id)))


# -- expiry and the end of a beat's exclusive --------------------------------------------------

def expire_due(now: dt.datetime | None = None) -> int:
    """Close every proposal whose time ran out: unanswered ones, and accepted ones not paid
    within their checkout window (one whose private checkout is being paid keeps its place)."""
    from marketplace.checkout.models import Order, OrderItem, OrderStatus

    now = now or utcnow()
    paying = select(OrderItem.proposal_id).join(Order, Order.id == OrderItem.order_id).where(
        Order.status == OrderStatus.PENDING, OrderItem.proposal_id.is_not(None))
    due = list(db.session.scalars(select(Proposal).where(
        Proposal.slot.is_not(None),
        ((Proposal.status.in_([ProposalStatus.OPEN, ProposalStatus.COUNTERED]) & (Proposal.expires_at <= now))
         | ((Proposal.status == ProposalStatus.ACCEPTED) & (Proposal.checkout_until <= now)
            & Proposal.id.not_in(paying)))).order_by(Proposal.id).with_for_update(skip_locked=True)))
    for proposal in due:
        _close(proposal, ProposalStatus.EXPIRED, "expired")
        _notify(proposal, proposal.artist_id, "expired")
        _notify(proposal, proposal.seller_id, "expired")
    return len(due)


def end_on_beat(family_id: str, reason: str) -> None:
    """The exclusive of this beat family was sold: every open proposal on the family ends,
    and each artist is told."""
    family = select(Beat.id).where((Beat.id == family_id) | (Beat.version_of_id == family_id))
    open_ = list(db.session.scalars(select(Proposal).where(
        Proposal.beat_id.in_(family), Proposal.slot.is_not(None)).order_by(Proposal.id).with_for_update()))
    for proposal in open_:
        _close(proposal, ProposalStatus.ENDED, reason)
        _notify(proposal, proposal.artist_id, "ended")


# -- the private checkout -----------------------------------------------------------------------

def for_checkout(buyer: User, proposal_id: str, position: int, *, lock: bool) -> Proposal:
    """The buyer's accepted proposal, payable now, or the refusal in words."""
    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed(message, details={"items": {str(position): [message]}})

    proposal = db.session.get(Proposal, proposal_id, with_for_update=lock or None, populate_existing=lock)
    if proposal is None or proposal.artist_id != buyer.id:
        raise refuse("You have no accepted offer with this id: only the artist whose offer was accepted "
                     "may pay it.")
    if proposal.status == ProposalStatus.PAID:
        raise refuse("You already paid for this offer: the license is in your library.")
    if proposal.status == ProposalStatus.ENDED:
        raise refuse("This offer ended: the exclusive rights of the beat were sold, or the beat left the "
                     "store.")
    if proposal.status != ProposalStatus.ACCEPTED:
        raise refuse(f"This offer is {proposal.status}: only an accepted offer can be paid.")
    if proposal.checkout_until <= utcnow():
        raise refuse("The time to pay this accepted offer has run out.")
    return proposal


def mark_paid(proposal_id: str) -> None:
    """At fulfilment, under the proposal's lock: paid once; a second payment is refused (and refunded)."""
    proposal = db.session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal.status != ProposalStatus.ACCEPTED:
        raise ProposalUnavailable()
    _close(proposal, ProposalStatus.PAID, "paid")

