"""Price proposals over the API: artists make and answer them, sellers answer them and set
their terms per tier. An accepted proposal is paid with POST /checkout."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role, User
from marketplace.api import Blueprint, document_errors
from marketplace.db import db
from marketplace.licensing.models import LicenseTier
from marketplace.proposals import services as proposals
from marketplace.proposals.models import Proposal, ProposalStatus
from marketplace.proposals.schemas import (
    CounterInSchema,
    ProposalInSchema,
    ProposalSchema,
    ProposalTermsInSchema,
    ProposalTermsSchema,
)

blp = Blueprint("proposals", __name__, description="Price proposals (offers an artist makes on a beat)")


def proposal_document(proposal: Proposal) -> dict[str, Any]:
    def money(amount: int | None) -> dict[str, Any] | None:
        return None if amount is None else {"amount": amount, "currency": proposal.currency}

    waiting = {ProposalStatus.OPEN: "seller", ProposalStatus.COUNTERED: "artist"}.get(proposal.status)
    return {"id": proposal.id, "beat_id": proposal.beat_id, "beat_title": proposal.beat.title,
            "tier_id": proposal.tier_id, "tier_name": proposal.tier.name, "kind": proposal.tier.kind,
            "artist_id": proposal.artist_id,
            "artist_name": db.session.get(User, proposal.artist_id).display_name,
            "seller_id": proposal.seller_id, "status": proposal.status,
            "amount": money(proposal.amount), "message": proposal.message,
            "counter": money(proposal.counter_amount), "counter_message": proposal.counter_message,
            "agreed": money(proposal.agreed_amount), "waiting_for": waiting,
            "expires_at": proposal.expires_at, "checkout_until": proposal.checkout_until,
            "closed_reason": proposal.closed_reason, "created_at": proposal.created_at}


@blp.post("/proposals")
@auth_required(Role.ARTIST)
@blp.arguments(ProposalInSchema)
@blp.response(201, ProposalSchema)
@document_errors(404, 409, 422, 429)
def make_proposal(fields):
    """Offer a price for a license of a beat (its exclusive, or a tier its seller opened to
    offers), with a message. At most a few open offers at once, one per beat; an offer
    unanswered expires. The seller is mailed."""
    proposal = proposals.propose(current_user(), fields["beat_id"], fields["tier_id"], fields["amount"],
                                 fields["message"])
    db.session.commit()
    return proposal_document(proposal)


@blp.get("/proposals")
@auth_required(Role.ARTIST)
@blp.response(200, ProposalSchema(many=True))
def my_proposals():
    """The offers you made, newest first."""
    return [proposal_document(p) for p in proposals.proposals_of_artist(current_user())]


@blp.get("/studio/proposals")
@auth_required(Role.BEATMAKER)
@blp.response(200, ProposalSchema(many=True))
def received_proposals():
    """The offers artists made on your beats, newest first."""
    return [proposal_document(p) for p in proposals.proposals_to_seller(current_user())]


@blp.post("/proposals/<proposal_id>/accept")
@auth_required()
@blp.response(200, ProposalSchema)
@document_errors(404, 409)
def accept_proposal(proposal_id):
    """The seller accepts the offer, or the artist the seller's counter: the artist may then pay
    the price agreed in a private checkout for a while. The other party is mailed."""
    proposal = proposals.accept(current_user(), proposal_id)
    db.session.commit()
    return proposal_document(proposal)


@blp.post("/proposals/<proposal_id>/decline")
@auth_required()
@blp.response(200, ProposalSchema)
@document_errors(404, 409)
def decline_proposal(proposal_id):
    """The seller declines the offer, or the artist the seller's counter."""
    proposal = proposals.decline(current_user(), proposal_id)
    db.session.commit()
    return proposal_document(proposal)


@blp.post("/proposals/<proposal_id>/counter")
@auth_required(Role.BEATMAKER)
@blp.arguments(CounterInSchema)
@blp.response(200, ProposalSchema)
@document_errors(404, 409, 422)
def counter_proposal(fields, proposal_id):
    """The seller names another price; the artist accepts or declines it."""
    proposal = proposals.counter(current_user(), proposal_id, fields["amount"], fields["message"])
    db.session.commit()
    return proposal_document(proposal)


@blp.post("/proposals/<proposal_id>/withdraw")
@auth_required(Role.ARTIST)
@blp.response(200, ProposalSchema)
@document_errors(404, 409)
def withdraw_proposal(proposal_id):
    """The artist takes back an offer not yet paid."""
    proposal = proposals.withdraw(current_user(), proposal_id)
    db.session.commit()
    return proposal_document(proposal)


def _terms_document(tier: LicenseTier, open_: bool, minimum: int) -> dict[str, Any]:
    return {"tier_id": tier.id, "tier_name": tier.name, "kind": tier.kind, "open": open_,
            "minimum": {"amount": minimum, "currency": tier.currency}}


@blp.get("/studio/proposal-terms")
@auth_required(Role.BEATMAKER)
@blp.response(200, ProposalTermsSchema(many=True))
def proposal_terms():
    """Per tier of yours: whether it takes offers, and the least an offer may be."""
    return [_terms_document(*row) for row in proposals.tiers_with_terms(current_user())]


@blp.put("/studio/proposal-terms/<tier_id>")
@auth_required(Role.BEATMAKER)
@blp.arguments(ProposalTermsInSchema)
@blp.response(200, ProposalTermsSchema)
@document_errors(404, 422)
def set_proposal_terms(fields, tier_id):
    """Open or close a tier to offers, and set the least an offer on it may be."""
    tier = proposals.set_terms(current_user(), tier_id, fields["open"], fields["minimum_amount"])
    db.session.commit()
    return _terms_document(tier, *proposals.terms_of(tier))
