"""Closing an account at its owner's request (with their password).

The account is anonymised rather than deleted: orders, licenses, the earnings ledger and
payouts refer to it, and they stay as records. A license bought stays valid (its buyer keeps
the rights, and the contract keeps the names it was issued with: licenses freeze the buyer's
name and the beat's snapshot at sale); a license sold stays valid for its buyer, who can still
download the files. Money the person earned and was not yet paid is still owed: the payout
account stays connected and the periodic payouts keep paying it.

What changes: the address becomes a placeholder that no mail reaches (so the real address is
free for a new account), the name becomes "Closed account", the password can no longer
match, every session and pending link ends, the account's status is `suspended` for good
(whatever serves active accounts only, sign-in and the store, leaves it out, and an admin
cannot lift it), its beats leave the store (archived, their open checkouts closed) and its own
open checkouts close. The owner is told at the address the account had.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from marketplace.accounts.models import Role, SignInAddress, User, UserRole, UserStatus
from marketplace.accounts.services import revoke_all_tokens
from marketplace.accounts.sessions import check_current_password, void_email_changes
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.checkout import services as checkout
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict
from marketplace.jobs.queue import enqueue
from marketplace.profiles.models import ProducerProfile

CLOSED_NAME = "Closed account"
# The .invalid top-level domain is reserved: no mail is ever delivered there.
PLACEHOLDER_DOMAIN = "closed.invalid"
# Unusable as a password hash: no password verifies against it.
UNUSABLE_PASSWORD = "!closed"
# A beat in one of these is in the store, or on its way there once processed.
LEAVING_STATUSES = (BeatStatus.PUBLISHED, BeatStatus.PROCESSING, BeatStatus.FAILED)


class LastAdministrator(Conflict):
    code = "last_administrator"
    message = ("You are the store's only administrator: have another administrator made "
               "(flask users create-admin) before closing this account.")


def close_account(user: User, password: str) -> None:
    check_current_password(user, password)
    if user.has_role(Role.ADMIN):
        _keep_an_administrator(user)
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    address, name = user.email, user.display_name
    _take_beats_out(user)
    checkout.close_checkouts_of_seller(user.id)  # leases of beats sold exclusively could still be paid
    checkout.close_checkouts_of_buyer(user.id)
    _anonymise(user)
    revoke_all_tokens(user)
    void_email_changes(user)
    db.session.flush()
    enqueue("accounts.send_account_closed", address, name, key=f"account-closed:{user.id}")


def placeholder_email(user_id: str) -> str:
    return f"closed-{user_id.lower()}@{PLACEHOLDER_DOMAIN}"


def _keep_an_administrator(user: User) -> None:
    """Refuse to close the last active administrator. Every administrator's row is locked
    first, so two administrators closing at once are counted one after the other."""
    admins = list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                     .where(UserRole.role == Role.ADMIN).order_by(User.id)
                                     .with_for_update(of=User).execution_options(populate_existing=True)))
    if not any(admin.id != user.id and admin.status == UserStatus.ACTIVE for admin in admins):
        raise LastAdministrator()


def _take_beats_out(user: User) -> None:
    beats = list(db.session.scalars(select(Beat).where(Beat.owner_id == user.id,
                                                       Beat.status.in_(LEAVING_STATUSES)).order_by(Beat.id)))
    for beat in beats:
        catalog.archive_beat(beat)  # closes the beat's open checkouts too


def _anonymise(user: User) -> None:
    user.email = user.email_key = placeholder_email(user.id)
    user.display_name = CLOSED_NAME
    # The public profile goes too: its handle is free again, its bio, links and avatar forgotten.
    user.handle = user.handle_key = None
    db.session.execute(delete(ProducerProfile).where(ProducerProfile.user_id == user.id))
    user.password_hash = UNUSABLE_PASSWORD
    user.email_verified_at = None
    user.status = UserStatus.SUSPENDED
    user.closed_at = utcnow()
    # Where it signed in from (kept hashed) serves only to let its owner sign in faster.
    db.session.execute(delete(SignInAddress).where(SignInAddress.user_id == user.id))
