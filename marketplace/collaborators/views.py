"""Invitations to be credited, their answers, and split sheets, under /api/v1."""

from __future__ import annotations

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors, json_response
from marketplace.catalog import services as catalog
from marketplace.collaborators import services, versions
from marketplace.collaborators.documents import invitation_document, version_document
from marketplace.collaborators.schemas import (
    InvitationListSchema,
    InvitationSchema,
    InviteSchema,
    SplitSheetSchema,
    SplitVersionListSchema,
    SplitVersionSchema,
    InvitationTokenSchema,
)
from marketplace.db import db

blp = Blueprint("collaborators", __name__,
                description="Collaborators: credits by invitation and consent, split sheet versions")


def _owner_view(invitation):
    return invitation_document(invitation, for_owner=True)


def _invitee_view(invitation):
    return invitation_document(invitation, for_owner=False)


def _committed(invitation, *, for_owner: bool, status: int = 200):
    """Commit what the request did to the invitation, and answer with it as its owner (or its
    invitee) sees it."""
    db.session.commit()
    return json_response(invitation_document(invitation, for_owner=for_owner), status)


@blp.post("/beats/<beat_id>/invitations")
@auth_required(Role.BEATMAKER)
@blp.arguments(InviteSchema)
@blp.response(201, InvitationSchema)
@document_errors(404, 422, 429)
def invite(payload, beat_id):
    """Credit a person on your beat by inviting them, by email (no account needed yet) or by
    handle. The credit shows the name marked pending, and its profit share (taken out of your
    own) is held for them, until they accept; they receive a mail with a link."""
    beat = catalog.get_owned_beat(beat_id, current_user())
    return _committed(services.invite(beat, current_user(), **payload), for_owner=True, status=201)


@blp.get("/beats/<beat_id>/invitations")
@auth_required(Role.BEATMAKER)
@blp.response(200, InvitationListSchema)
@document_errors(404)
def beat_invitations(beat_id):
    """Every invitation sent for your beat, newest first, with what is held for each."""
    beat = catalog.get_owned_beat(beat_id, current_user())
    return json_response({"items": [_owner_view(i) for i in services.invitations_of_beat(beat)]})


@blp.post("/credit-invitations/<invitation_id>/reinvite")
@auth_required(Role.BEATMAKER)
@blp.response(200, InvitationSchema)
@document_errors(404, 409, 429)
def reinvite(invitation_id):
    """Invite again: a pending invitation is mailed again with a fresh link and time; a declined
    or expired one is replaced by a new invitation for the same credit (the answer is the new one)."""
    user = current_user()
    return _committed(services.reinvite(services.owned_invitation(invitation_id, user), user), for_owner=True)


@blp.post("/credit-invitations/<invitation_id>/cancel")
@auth_required(Role.BEATMAKER)
@blp.response(200, InvitationSchema)
@document_errors(404, 409)
def cancel(invitation_id):
    """Withdraw a pending invitation: the credit stays as a name only, and what was held for it
    returns to you."""
    user = current_user()
    return _committed(services.cancel(services.owned_invitation(invitation_id, user), user), for_owner=True)


@blp.get("/me/credit-invitations")
@auth_required()
@blp.response(200, InvitationListSchema)
def my_invitations():
    """Invitations to be credited sent to your account (by handle) or to your verified address,
    newest first, with the beat, the role and the proposed shares."""
    return json_response({"items": [_invitee_view(i) for i in services.invitations_for(current_user())]})


@blp.post("/me/credit-invitations/<invitation_id>/accept")
@auth_required()
@blp.response(200, InvitationSchema)
@document_errors(404, 409)
def accept(invitation_id):
    """Accept: you are credited with your account, and what sales held for you is paid to you
    (sent once you have set up payouts)."""
    user = current_user()
    return _committed(services.accept(services.invitation_for(invitation_id, user), user), for_owner=False)


@blp.post("/me/credit-invitations/<invitation_id>/decline")
@auth_required()
@blp.response(200, InvitationSchema)
@document_errors(404, 409)
def decline(invitation_id):
    """Decline: the credit keeps the typed name, marked declined, and what was held returns to the owner."""
    user = current_user()
    return _committed(services.decline(services.invitation_for(invitation_id, user), user), for_owner=False)


@blp.post("/credit-invitations/lookup")
@blp.arguments(InvitationTokenSchema)
@blp.response(200, InvitationSchema)
@document_errors(400)
def lookup_by_token(payload):
    """The invitation a mailed link is for, to show before answering (the link still works after)."""
    return json_response(_invitee_view(services.by_token(payload["token"])))


@blp.post("/credit-invitations/accept")
@auth_required()
@blp.arguments(InvitationTokenSchema)
@blp.response(200, InvitationSchema)
@document_errors(400, 409)
def accept_by_token(payload):
    """Accept through the mailed link, with the account you are signed in to (the link proves the
    mailbox; an invitation sent to a handle is that account's only). The link works once."""
    invitation = services.accept(services.by_token(payload["token"]), current_user(), by_link=True)
    return _committed(invitation, for_owner=False)


@blp.post("/credit-invitations/decline")
@blp.arguments(InvitationTokenSchema)
@blp.response(200, InvitationSchema)
@document_errors(400, 409)
def decline_by_token(payload):
    """Decline through the mailed link; no account is needed. The link works once."""
    invitation = services.decline(services.by_token(payload["token"]), optional_user(), by_link=True)
    return _committed(invitation, for_owner=False)


@blp.get("/beats/<beat_id>/split-sheet")
@auth_required()
@blp.response(200, SplitSheetSchema)
@document_errors(404)
def split_sheet(beat_id):
    """The split in force (what sales follow) and a proposed change waiting for acceptances, for
    the beat's owner and its collaborators."""
    beat = services.beat_for_split_sheet(beat_id, current_user())
    current, proposed = services.split_sheet(beat)
    db.session.commit()  # a beat credited before split sheets gets its version 1 here
    return json_response({"beat_id": beat.id, "in_force": version_document(current) if current else None,
                     "proposed": version_document(proposed) if proposed else None})


@blp.get("/beats/<beat_id>/split-sheet/versions")
@auth_required()
@blp.response(200, SplitVersionListSchema)
@document_errors(404)
def split_versions(beat_id):
    """Every version of the beat's split sheet, newest first; none is ever changed or removed."""
    beat = services.beat_for_split_sheet(beat_id, current_user())
    return json_response({"items": [version_document(v) for v in versions.versions_of(beat.id)]})


@blp.get("/beats/<beat_id>/split-sheet/versions/<int:number>")
@auth_required()
@blp.response(200, SplitVersionSchema)
@document_errors(404)
def split_version(beat_id, number):
    """One version of the split sheet, by its number (a license names the one it was sold under)."""
    beat = services.beat_for_split_sheet(beat_id, current_user())
    return json_response(version_document(versions.get_version(beat.id, number)))


@blp.post("/beats/<beat_id>/split-sheet/versions/<int:number>/accept")
@auth_required()
@blp.response(200, SplitVersionSchema)
@document_errors(403, 404, 409)
def accept_split_version(beat_id, number):
    """Accept a proposed change of your share; once everyone asked has accepted, it is in force
    for the sales that follow (sales before keep the split they were sold under)."""
    user = current_user()
    beat = services.beat_for_split_sheet(beat_id, user)
    version = versions.accept_version(versions.get_version(beat.id, number), user)
    db.session.commit()
    return json_response(version_document(version))
