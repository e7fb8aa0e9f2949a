"""Crediting people with their consent: the credit list, invitations and their answers.

Services flush, never commit; the edges (a request, a job) own the transaction.

A beat's owner credits another person by inviting them, by address (no account needed yet) or
by public handle. The credit is `pending` until the invitee accepts, from an account whose
verified address is the invited one (or the invited account), or through the mailed link from
any account they sign in to. Their profit share is held meanwhile, paid to them once they
accept (and once they can be paid), returned to the owner when they decline, the invitation
expires or the owner cancels it. An invitation is decided once: the answer is a guarded UPDATE
of its pending row, so an accept and a decline at the same time give one outcome.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from marketplace.accounts.emails import email_key
from marketplace.accounts.models import User
from marketplace.accounts.services import hash_token, normalise_email
from marketplace.catalog import services as catalog
from marketplace.catalog.credits import CreditInput, CreditRole, CreditRuleBroken, CreditStatus, check_credit_rules
from marketplace.catalog.models import Beat, BeatCredit
from marketplace.collaborators import versions
from marketplace.collaborators.models import CreditInvitation, InvitationStatus
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.common.shares import percent
from marketplace.db import db
from marketplace.common.errors import AppError, Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.jobs.queue import enqueue
from marketplace.payouts import held

TOKEN_PREFIX = "cin_"
CREDIT_STATUS_OF = {InvitationStatus.PENDING: CreditStatus.PENDING, InvitationStatus.ACCEPTED: CreditStatus.ACCEPTED,
                    InvitationStatus.DECLINED: CreditStatus.DECLINED, InvitationStatus.EXPIRED: CreditStatus.EXPIRED}
INVITE_INSTEAD = ("A credit can link only your own account, or someone who accepted an invitation to this beat. "
                  "To credit another person, invite them by email or handle (POST /api/v1/beats/{beat_id}/invitations, "
                  "or an \"invite\" on the credit): they are credited once they accept.")


class InvitationLinkUnusable(AppError):
    status = 400
    code = "invitation_link_unusable"
    message = ("This invitation link has expired or was already used. Ask the beat's owner to invite you again, "
               "or answer from your account if the invitation was sent to your address.")


def _count_mail(actor: User) -> None:
    """Each invitation mails an address someone typed: an account sends a limited number (429)."""
    rate_limits().hit(current_app.config["CREDIT_INVITATIONS_PER_ACCOUNT"], "credit-invitation", actor.id)


def invitation_days() -> int:
    return int(current_app.config["CREDIT_INVITATION_DAYS"])


# -- the credit list ------------------------------------------------------------------------

def set_credits(beat: Beat, actor: User, entries: Sequence[Mapping[str, Any]]) -> Beat:
    """Replace the beat's credits (the owner's whole list). Each entry is a name only, the
    owner's own account, a collaborator who accepted an invitation to this beat (by `user_id`
    or `invitation_id`), an earlier invitation kept (`invitation_id`), or a new one (`invite`:
    an address or a handle). Pending invitations left out are cancelled. A new split sheet
    version records the result."""
    versions.lock_beat(beat)
    versions.start_split_sheet(beat, beat.owner_id)
    invitations = _invitations_of(beat.id)
    rows, new_invitations, kept = [], [], set()
    for index, entry in enumerate(entries):
        credit = BeatCredit(position=index, name=entry["name"].strip(), role=entry["role"],
                            profit_share_bps=entry.get("profit_share_bps"),
                            publishing_share_bps=entry.get("publishing_share_bps"),
                            master_points_bps=entry.get("master_points_bps"),
                            pro=_optional_text(entry.get("pro")), ipi=_optional_text(entry.get("ipi")))
        invitation = _invitation_for(beat, entry, invitations, index)
        if entry.get("invite"):
            invitation = _new_invitation(beat, actor, credit, entry["invite"], index)
            new_invitations.append(invitation)
        if invitation is not None:
            kept.add(invitation.id)
            _link(credit, invitation)
        elif entry.get("user_id"):
            credit.user_id, credit.status = entry["user_id"], CreditStatus.ACCEPTED  # the owner's own
        else:
            credit.status = CreditStatus.NAME_ONLY
        rows.append(credit)
    _check_rules(rows, beat.owner_id)
    for invitation in invitations.values():
        if invitation.id not in kept and invitation.status == InvitationStatus.PENDING:
            _decide(invitation, InvitationStatus.CANCELLED)
    catalog._replace_children(beat, "credits", rows)
    catalog.refresh_search_document(beat)
    db.session.flush()
    versions.record_change(beat, actor)
    for invitation in new_invitations:
        enqueue("collaborators.send_invitation", invitation.id)
    return beat


def _optional_text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _invitations_of(beat_id: str) -> dict[str, CreditInvitation]:
    return {invitation.id: invitation for invitation in db.session.scalars(
        select(CreditInvitation).where(CreditInvitation.beat_id == beat_id).with_for_update())}


def _invitation_for(beat: Beat, entry: Mapping[str, Any], invitations: Mapping[str, CreditInvitation],
                    index: int) -> CreditInvitation | None:
    """The invitation an entry keeps: named by id, or found by the account that accepted one."""
    if entry.get("invitation_id"):
        invitation = invitations.get(entry["invitation_id"])
        if invitation is None:
            raise ValidationFailed("A credit names an invitation this beat does not have.", details={
                f"credits.{index}.invitation_id": ["No invitation of this beat has this id."]})
        if invitation.status == InvitationStatus.CANCELLED:
            raise ValidationFailed("This invitation was cancelled: invite the person again.", details={
                f"credits.{index}.invitation_id": ["This invitation was cancelled: invite the person again."]})
        return invitation
    user_id = entry.get("user_id")
    if not user_id or user_id == beat.owner_id:
        return None
    accepted = [inv for inv in invitations.values()
                if inv.status == InvitationStatus.ACCEPTED and inv.accepted_by_id == user_id]
    if not accepted:
        raise AppError(INVITE_INSTEAD.format(beat_id=beat.id), code="consent_required", status=422,
                       details={f"credits.{index}.user_id": ["This account has not accepted a credit on this beat: "
                                                             "invite them instead."]})
    return next((inv for inv in accepted if inv.role == entry["role"]), accepted[0])


def _link(credit: BeatCredit, invitation: CreditInvitation) -> None:
    credit.invitation_id = invitation.id
    credit.status = CREDIT_STATUS_OF.get(invitation.status, CreditStatus.NAME_ONLY)
    if invitation.status == InvitationStatus.CANCELLED:
        credit.invitation_id = None
    credit.user_id = invitation.accepted_by_id if invitation.status == InvitationStatus.ACCEPTED else None
    if invitation.status == InvitationStatus.PENDING:
        # What the invitee is asked to accept follows the credit while they have not answered.
        invitation.name, invitation.role = credit.name, credit.role
        invitation.profit_share_bps = credit.profit_share_bps
        invitation.publishing_share_bps = credit.publishing_share_bps


def _check_rules(rows: Sequence[BeatCredit], owner_id: str) -> None:
    inputs = [CreditInput(name=row.name, role=CreditRole(row.role),
                          user_id=row.user_id or (f"invitation:{row.invitation_id}" if row.invitation_id else None),
                          profit_share_bps=row.profit_share_bps, publishing_share_bps=row.publishing_share_bps,
                          master_points_bps=row.master_points_bps) for row in rows]
    try:
        check_credit_rules(inputs, owner_id)
    except CreditRuleBroken as broken:
        raise ValidationFailed(broken.message, details={broken.field: [broken.message]}) from None


def _new_invitation(beat: Beat, actor: User, credit: BeatCredit, invite: Mapping[str, Any],
                    index: int) -> CreditInvitation:
    where = f"credits.{index}.invite"
    _count_mail(actor)
    email, handle = (invite.get("email") or "").strip(), (invite.get("handle") or "").strip().removeprefix("@")
    if bool(email) == bool(handle):
        raise ValidationFailed("Invite a person by their email address or by their handle, one of the two.",
                               details={where: ["Give an email address or a handle."]})
    invitation = CreditInvitation(beat_id=beat.id, invited_by_id=actor.id, name=credit.name, role=credit.role,
                                  profit_share_bps=credit.profit_share_bps,
                                  publishing_share_bps=credit.publishing_share_bps,
                                  expires_at=utcnow() + dt.timedelta(days=invitation_days()))
    if handle:
        from marketplace.profiles.services import public_user  # profiles builds on the catalogue

        try:
            invitee = public_user(handle)
        except NotFound:
            raise ValidationFailed(f"Nobody has the handle @{handle[:40]}.",
                                   details={where: [f"Nobody has the handle @{handle[:40]}."]}) from None
        invitation.invitee_id = invitee.id
        invitation.invitee = invitee
    else:
        try:
            invitation.email = normalise_email(email)
            invitation.email_key = email_key(invitation.email)
        except ValueError:
            raise ValidationFailed(f"{email[:80]} is not an email address.",
                                   details={where: ["This is not an email address."]}) from None
        if "@" not in invitation.email:
            raise ValidationFailed(f"{email[:80]} is not an email address.",
                                   details={where: ["This is not an email address."]})
    owner = db.session.get(User, beat.owner_id)
    if invitation.invitee_id == owner.id or (invitation.email_key and invitation.email_key == owner.email_key):
        raise ValidationFailed("That is you: credit your own account directly (its user_id), without an invitation.",
                               details={where: ["You cannot invite yourself."]})
    db.session.add(invitation)
    db.session.flush()
    return invitation


def current_entries(beat: Beat) -> list[dict[str, Any]]:
    """The beat's credits as entries of set_credits, keeping each one as it is."""
    return [{"name": c.name, "role": c.role, "profit_share_bps": c.profit_share_bps,
             "publishing_share_bps": c.publishing_share_bps, "master_points_bps": c.master_points_bps,
             "pro": c.pro, "ipi": c.ipi, "invitation_id": c.invitation_id,
             "user_id": c.user_id if c.invitation_id is None else None} for c in beat.credits]


def invite(beat: Beat, actor: User, *, name: str, role: str, email: str | None = None, handle: str | None = None,
           profit_share_bps: int | None = None, publishing_share_bps: int | None = None,
           pro: str | None = None, ipi: str | None = None) -> CreditInvitation:
    """Add one credit by invitation. Its profit share comes out of the owner's own credit (the
    one with the largest share); a split other than that is set with the whole credit list."""
    entries = current_entries(beat)
    if profit_share_bps:
        own = [e for e in entries if e["user_id"] == beat.owner_id and e["profit_share_bps"]]
        largest = max(own, key=lambda e: e["profit_share_bps"], default=None)
        if largest is None or largest["profit_share_bps"] < profit_share_bps:
            have = percent(largest["profit_share_bps"]) if largest else "0%"
            raise ValidationFailed(
                f"Your own profit share is {have}, less than the {percent(profit_share_bps)} offered: set the "
                "whole split with the credit list instead.",
                details={"profit_share_bps": [f"At most {have}, your own share."]})
        largest["profit_share_bps"] -= profit_share_bps
    entries.append({"name": name, "role": role, "profit_share_bps": profit_share_bps,
                    "publishing_share_bps": publishing_share_bps, "pro": pro, "ipi": ipi,
                    "invite": {"email": email, "handle": handle}})
    set_credits(beat, actor, entries)
    return db.session.get(CreditInvitation, beat.credits[-1].invitation_id)


# -- the owner's side ---------------------------------------------------------------------------

def invitations_of_beat(beat: Beat) -> list[CreditInvitation]:
    return list(db.session.scalars(select(CreditInvitation).where(CreditInvitation.beat_id == beat.id)
                                   .order_by(CreditInvitation.created_at.desc(), CreditInvitation.id.desc())))


def owned_invitation(invitation_id: str, owner: User) -> CreditInvitation:
    invitation = db.session.get(CreditInvitation, invitation_id)
    beat = db.session.get(Beat, invitation.beat_id) if invitation is not None else None
    if beat is None or beat.owner_id != owner.id:
        raise NotFound("No such invitation of yours.", code="invitation_not_found")
    return invitation


def cancel(invitation: CreditInvitation, actor: User) -> CreditInvitation:
    """The owner withdraws a pending invitation: the credit stays as a name only, and what was
    held for it returns to the owner."""
    beat = db.session.get(Beat, invitation.beat_id)
    versions.lock_beat(beat)
    versions.start_split_sheet(beat, beat.owner_id)
    _decide(invitation, InvitationStatus.CANCELLED)
    for credit in beat.credits:
        if credit.invitation_id == invitation.id:
            credit.invitation_id, credit.status = None, CreditStatus.NAME_ONLY
    db.session.flush()
    versions.record_change(beat, actor)
    return invitation


def reinvite(invitation: CreditInvitation, actor: User) -> CreditInvitation:
    """Invite again. A pending invitation gets a fresh link and a new expiry; a declined or
    expired one is replaced by a new invitation for the same credit, whose share is held again
    from the next sale."""
    if invitation.status == InvitationStatus.ACCEPTED:
        raise Conflict("This invitation was accepted: there is nothing to invite again.",
                       code="invitation_accepted")
    if invitation.status == InvitationStatus.CANCELLED:
        raise Conflict("This invitation was cancelled and its credit is a name only now: invite the person "
                       "again with a new invitation.", code="invitation_cancelled")
    _count_mail(actor)
    if invitation.status == InvitationStatus.PENDING:
        invitation.expires_at = utcnow() + dt.timedelta(days=invitation_days())
        db.session.flush()
        enqueue("collaborators.send_invitation", invitation.id)
        return invitation
    beat = db.session.get(Beat, invitation.beat_id)
    versions.lock_beat(beat)
    versions.start_split_sheet(beat, beat.owner_id)
    credit = next((c for c in beat.credits if c.invitation_id == invitation.id), None)
    if credit is None:
        raise Conflict("This invitation's credit was removed from the beat: add the credit again with a new "
                       "invitation.", code="credit_removed")
    again = CreditInvitation(beat_id=beat.id, invited_by_id=actor.id, email=invitation.email,
                             email_key=invitation.email_key, invitee_id=invitation.invitee_id,
                             name=credit.name, role=credit.role, profit_share_bps=credit.profit_share_bps,
                             publishing_share_bps=credit.publishing_share_bps, replaces_id=invitation.id,
                             expires_at=utcnow() + dt.timedelta(days=invitation_days()))
    db.session.add(again)
    db.session.flush()
    credit.invitation_id, credit.status, credit.user_id = again.id, CreditStatus.PENDING, None
    db.session.flush()
    versions.record_change(beat, actor)
    enqueue("collaborators.send_invitation", again.id)
    return again


# -- the invitee's side --------------------------------------------------------------------------

def invitations_for(user: User) -> list[CreditInvitation]:
    """Invitations to this account: sent to it by handle, or to its address once verified."""
    addressed = [CreditInvitation.invitee_id == user.id, CreditInvitation.accepted_by_id == user.id]
    if user.email_verified and user.email_key:
        addressed.append(CreditInvitation.email_key == user.email_key)
    return list(db.session.scalars(select(CreditInvitation).where(
        or_(*addressed), CreditInvitation.status != InvitationStatus.CANCELLED)
        .order_by(CreditInvitation.created_at.desc(), CreditInvitation.id.desc())))


def may_answer(invitation: CreditInvitation, user: User) -> bool:
    """The invited account, or an account whose verified address is the invited one."""
    if invitation.invitee_id is not None and invitation.email_key is None:
        return invitation.invitee_id == user.id
    return (invitation.invitee_id == user.id
            or (user.email_verified and user.email_key is not None and user.email_key == invitation.email_key))


def invitation_for(invitation_id: str, user: User) -> CreditInvitation:
    invitation = db.session.get(CreditInvitation, invitation_id)
    if invitation is None or not may_answer(invitation, user):
        raise NotFound("No such invitation to you. An invitation sent to your address shows here once your "
                       "address is verified.", code="invitation_not_found")
    return invitation


def by_token(raw_token: str) -> CreditInvitation:
    invitation = db.session.scalar(select(CreditInvitation).where(
        CreditInvitation.token_hash == hash_token(raw_token)))
    if invitation is None or invitation.status != InvitationStatus.PENDING or invitation.expires_at <= utcnow():
        raise InvitationLinkUnusable()
    return invitation


def accept(invitation: CreditInvitation, user: User, *, by_link: bool = False) -> CreditInvitation:
    """`user` accepts: the credit links their account, what was held is paid to them (sent once
    they can be paid), and their acceptance is written on the split sheet. Through the mailed
    link any account may accept, except that an invitation to a handle is that account's."""
    if by_link and invitation.email_key is None and invitation.invitee_id != user.id:
        raise PermissionDenied("This invitation was sent to another account: sign in as that account to accept it.",
                               code="invitation_not_yours")
    if not by_link and not may_answer(invitation, user):
        raise NotFound("No such invitation to you.", code="invitation_not_found")
    beat = db.session.get(Beat, invitation.beat_id)
    if beat.owner_id == user.id:
        raise PermissionDenied("This is an invitation to your own beat: your own account is credited directly.",
                               code="own_beat")
    _decide(invitation, InvitationStatus.ACCEPTED, user)
    for credit in beat.credits:
        if credit.invitation_id == invitation.id:
            credit.user_id, credit.status = user.id, CreditStatus.ACCEPTED
    db.session.flush()
    versions.note_acceptance(beat.id, user)
    held.end_hold(invitation.id, "accepted", collaborator_id=user.id)
    return invitation


def decline(invitation: CreditInvitation, user: User | None, *, by_link: bool = False) -> CreditInvitation:
    """The invitee declines: the credit stays as a typed name marked declined, and what was held
    returns to the owner."""
    if not by_link and (user is None or not may_answer(invitation, user)):
        raise NotFound("No such invitation to you.", code="invitation_not_found")
    _decide(invitation, InvitationStatus.DECLINED, user)
    return invitation


def expire_due(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Expire pending invitations past their time (the sweep); their held money returns."""
    now = now or utcnow()
    due = list(db.session.scalars(select(CreditInvitation).where(
        CreditInvitation.status == InvitationStatus.PENDING, CreditInvitation.expires_at <= now)
        .order_by(CreditInvitation.expires_at).limit(limit)))
    expired = 0
    for invitation in due:
        try:
            _decide(invitation, InvitationStatus.EXPIRED, now=now)
            expired += 1
        except Conflict:
            continue  # answered meanwhile
    return expired


def _decide(invitation: CreditInvitation, outcome: InvitationStatus, user: User | None = None,
            now: dt.datetime | None = None) -> None:
    """Decide a pending invitation once (a guarded UPDATE: of two answers at once, one wins),
    update its credit, and end the hold of its share unless it was accepted (the caller pays
    the collaborator then)."""
    now = now or utcnow()
    values: dict[str, Any] = {"status": outcome, "decided_at": now, "token_hash": None}
    if outcome == InvitationStatus.ACCEPTED:
        values.update(accepted_by_id=user.id, invitee_id=user.id)
    guard = [CreditInvitation.id == invitation.id, CreditInvitation.status == InvitationStatus.PENDING]
    if outcome != InvitationStatus.EXPIRED and outcome != InvitationStatus.CANCELLED:
        guard.append(CreditInvitation.expires_at > now)
    decided = db.session.execute(update(CreditInvitation).where(*guard).values(**values)
                                 .execution_options(synchronize_session=False))
    db.session.refresh(invitation)
    if decided.rowcount != 1:
        state = "expired" if invitation.status == InvitationStatus.PENDING else invitation.status
        raise Conflict(f"This invitation was already {state}: it can be answered once.",
                       code="invitation_already_decided", details={"status": state})
    if outcome == InvitationStatus.ACCEPTED:
        return
    beat = db.session.get(Beat, invitation.beat_id)
    if outcome in CREDIT_STATUS_OF:
        for credit in beat.credits if beat else []:
            if credit.invitation_id == invitation.id:
                credit.status = CREDIT_STATUS_OF[outcome]
    db.session.flush()
    held.end_hold(invitation.id, outcome.value)


# -- the mailed link --------------------------------------------------------------------------------

def new_link(invitation: CreditInvitation, link_base: str) -> str | None:
    """A fresh link to answer the invitation (voiding the earlier one), or None once decided."""
    if invitation.status != InvitationStatus.PENDING:
        return None
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(raw_token)
    db.session.flush()
    return f"{link_base.rstrip('/')}/credit-invitation?token={raw_token}"


# -- split sheets -------------------------------------------------------------------------------

def beat_for_split_sheet(beat_id: str, user: User) -> Beat:
    """The beat, for its owner and its collaborators (those who accepted a credit on it, and
    those invited and still deciding); anyone else gets the 404 of a beat that does not exist."""
    beat = db.session.get(Beat, beat_id)
    if beat is not None and beat.owner_id == user.id:
        return beat
    if beat is not None:
        for invitation in db.session.scalars(select(CreditInvitation).where(CreditInvitation.beat_id == beat.id)):
            if invitation.accepted_by_id == user.id or (invitation.status == InvitationStatus.PENDING
                                                        and may_answer(invitation, user)):
                return beat
    raise NotFound("No such beat among yours or those you are credited on.", code="beat_not_found")


def split_sheet(beat: Beat) -> tuple[Any, Any]:
    """(the version in force, the proposed one waiting for acceptances or None). A beat
    credited before split sheets existed gets its version 1 from its credits."""
    versions.start_split_sheet(beat, beat.owner_id)
    proposed = versions.latest(beat.id)
    current = versions.in_force(beat.id)
    return current, proposed if proposed is not None and proposed.status == "proposed" else None
