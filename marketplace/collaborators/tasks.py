"""Background jobs of collaborators: mailing an invitation (its link is made by the job, so its
token is never in a queue or a log) and the sweep that expires invitations left unanswered."""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.catalog.credits import ROLE_LABELS
from marketplace.catalog.models import Beat
from marketplace.collaborators import services
from marketplace.collaborators.models import CreditInvitation
from marketplace.common.shares import percent
from marketplace.db import db
from marketplace.jobs.queue import BUYER, job
from marketplace.mail import messages


@job("collaborators.send_invitation", kind="email", queue=BUYER)
def send_invitation(invitation_id: str) -> None:
    """Make the link and mail it to the invited address or account. Committed before sending:
    a mail that fails is retried with a new link, which voids the one never sent."""
    invitation = db.session.get(CreditInvitation, invitation_id)
    if invitation is None:
        return
    beat = db.session.get(Beat, invitation.beat_id)
    inviter = db.session.get(User, invitation.invited_by_id)
    base = messages.public_base_url()
    link = services.new_link(invitation, base)
    if link is None or beat is None or inviter is None:
        return  # answered or cancelled meanwhile
    db.session.commit()
    context = {"link": link, "inviter": inviter.display_name, "title": beat.title, "credit_name": invitation.name,
               "role_label": ROLE_LABELS[invitation.role],
               "profit_share": percent(invitation.profit_share_bps) if invitation.profit_share_bps else None,
               "publishing_share": (percent(invitation.publishing_share_bps)
                                    if invitation.publishing_share_bps else None),
               "days": services.invitation_days(), "account_link": f"{base}/account",
               "signup_link": f"{base}/signup"}
    invitee = db.session.get(User, invitation.invitee_id) if invitation.invitee_id else None
    if invitee is not None and invitation.email is None:
        messages.send("credit_invitation", invitee, context)
    else:
        messages.send_to_address("credit_invitation", invitation.email, invitation.name, context)


@job("collaborators.expire_invitations", every_seconds=3600)
def expire_invitations() -> int:
    """Expire invitations past their time; what was held for them returns to the owners."""
    expired = services.expire_due()
    db.session.commit()
    return expired
