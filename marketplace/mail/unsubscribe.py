"""One-click unsubscribe from a category of mails a person may turn off: each such mail carries
a signed link (and a List-Unsubscribe header, which mail programs offer as a button) naming the
account and the category. The link needs no sign-in and does not expire: it can only turn that
category off, which the owner can undo on the account page."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.accounts.models import MAIL_CATEGORIES, User
from marketplace.db import db
from marketplace.common.errors import AppError

_SALT = "mail-unsubscribe"


class UnsubscribeLinkUnusable(AppError):
    code = "unsubscribe_link_invalid"
    message = ("This unsubscribe link does not work: it was changed or cut short. Sign in and turn the mails "
               "off under Mail settings on your account page instead.")


def token_for(user: User, category: str) -> str:
    return _serializer().dumps({"user_id": user.id, "category": category})


def unsubscribe(token: str) -> tuple[User, str]:
    """Turn off the category the token names for its account; answers both."""
    try:
        claims = _serializer().loads(token)
    except BadSignature:
        raise UnsubscribeLinkUnusable() from None
    category = claims.get("category") if isinstance(claims, dict) else None
    user = db.session.get(User, claims.get("user_id")) if category in MAIL_CATEGORIES else None
    if user is None:
        raise UnsubscribeLinkUnusable()
    setattr(user, f"mail_{category}", False)
    db.session.flush()
    return user, category


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
