"""The API documents of invitations and split sheet versions (schemas.py documents them)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import User
from marketplace.catalog.credits import ROLE_LABELS
from marketplace.catalog.models import Beat, public_handle
from marketplace.collaborators.models import CreditInvitation, SplitVersion
from marketplace.db import db
from marketplace.payouts import held


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def invitation_document(invitation: CreditInvitation, *, for_owner: bool) -> dict[str, Any]:
    """An invitation as its invitee sees it; the owner also sees whom it went to and what is held."""
    beat = db.session.get(Beat, invitation.beat_id)
    inviter = db.session.get(User, invitation.invited_by_id)
    invitee = db.session.get(User, invitation.invitee_id) if invitation.invitee_id else None
    document = {
        "id": invitation.id,
        "beat": {"id": beat.id, "title": beat.title},
        "invited_by": {"display_name": inviter.display_name, "handle": public_handle(inviter)},
        "name": invitation.name,
        "role": invitation.role,
        "role_label": ROLE_LABELS[invitation.role],
        "profit_share_bps": invitation.profit_share_bps,
        "publishing_share_bps": invitation.publishing_share_bps,
        "status": invitation.status,
        "created_at": _time(invitation.created_at),
        "expires_at": _time(invitation.expires_at),
        "decided_at": _time(invitation.decided_at),
        "replaces": invitation.replaces_id,
    }
    if for_owner:
        document["invited"] = {"email": invitation.email, "handle": public_handle(invitee) if invitee else None}
        document["held"] = {"amount": held.held_for(invitation.id), "currency": _currency()}
    return document


def _currency() -> str:
    from flask import current_app

    return current_app.config["STORE_CURRENCY"]


def version_document(version: SplitVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "content_hash": version.content_hash,
        "created_at": _time(version.created_at),
        "in_force_at": _time(version.in_force_at),
        "ended_at": _time(version.ended_at),
        "entries": [{"name": e["name"], "role": e["role"], "role_label": ROLE_LABELS[e["role"]],
                     "profit_share_bps": e.get("profit_share_bps"), "publishing_share_bps": e.get("publishing_share_bps"),
                     "master_points_bps": e.get("master_points_bps"), "pro": e.get("pro"), "ipi": e.get("ipi"),
                     "user_id": e.get("user_id"), "invitation_id": e.get("invitation_id")}
                    for e in version.entries],
        "acceptances": [{"user_id": a.user_id, "name": a.name, "accepted_at": _time(a.accepted_at)}
                        for a in version.acceptances],
    }
