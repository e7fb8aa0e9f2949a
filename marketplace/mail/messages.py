"""Messages composed from templates: one Jinja template for the text part and one for the
HTML part of each message (marketplace/mail/templates/<name>.txt and .html, sharing a layout),
sent as multipart/alternative.

Names and titles in a message are what people typed, in any script: the HTML part escapes
them (autoescape), the text part keeps them as typed, and headers are always one line. Links
are absolute, from PUBLIC_BASE_URL. Every message says in its footer why it was sent; the
ones a person may turn off (their category, see KINDS) also link to the settings that
turn them off. Whether a person turned a category off is asked here, at sending time.
"""

from __future__ import annotations

import dataclasses
import email.policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import jinja2
from flask import current_app

from marketplace.accounts.models import MAIL_CATEGORIES, User
# Mails and jobs read the store's address here too.
from marketplace.common.links import DEVELOPMENT_BASE_URL, public_base_url  # noqa: F401
from marketplace.common.text import one_line
from marketplace.mail import unsubscribe
from marketplace.mail.transport import deliver

TEMPLATES = Path(__file__).parent / "templates"

# The categories a person may turn off (accounts.models.MAIL_CATEGORIES); a message without
# one (security, receipts, moderation, payouts sent, an exclusive sold over a lease) always goes.
SALE_NOTICES, MARKETING = MAIL_CATEGORIES


@dataclasses.dataclass(frozen=True)
class Kind:
    subject: str  # a template (text): rendered with the message's context, then made one line
    why: str  # the footer's "You get this mail because ..."
    category: str | None = None  # None: essential, it always goes


KINDS: dict[str, Kind] = {
    "verify_email": Kind("Verify your email address",
                         "this address was given for an account, and it needs verifying."),
    "password_reset": Kind("Reset your password",
                           "someone asked to reset the password of the account with this address."),
    "failed_sign_ins": Kind("Someone is trying to sign in to your account",
                            "we tell account owners when their password is guessed at."),
    "receipt": Kind("Your order {{ order.id }}", "you placed this order."),
    "refund_receipt": Kind("Refund for your order {{ order.id }}", "lines of your order were refunded."),
    "payment_failed": Kind("Your payment for order {{ order.id }} did not go through",
                           "you started this order."),
    "exclusive_sold": Kind('Exclusive rights to "{{ title }}" were sold',
                           "you hold a lease of this beat, and its exclusive rights concern your license."),
    "sale_notice": Kind('You sold a license: {{ lines[0].beat_title }}{% if lines|length > 1 %} and '
                        '{{ lines|length - 1 }} more{% endif %}',
                        "you sell these beats or share in their sales.", SALE_NOTICES),
    "payout_sent": Kind("{{ amount }} is on its way to you",
                        "you set up payouts, and we tell you each time money is sent."),
    "strike_recorded": Kind("A strike was recorded against your account",
                            "an administrator acted on your account."),
    "strike_lifted": Kind("A strike against your account was lifted", "an administrator acted on your account."),
    "account_suspended": Kind("Your account is suspended", "an administrator acted on your account."),
    "account_reinstated": Kind("Your account is active again", "an administrator acted on your account."),
    "beat_taken_down": Kind('Your beat "{{ title }}" was taken down', "an administrator acted on your beat."),
    "beat_restored": Kind('Your beat "{{ title }}" was restored', "an administrator acted on your beat."),
    "beat_waiting_for_review": Kind('Your beat "{{ title }}" is waiting for review', "you published this beat."),
    "beat_approved": Kind('Your beat "{{ title }}" was approved', "you published this beat."),
    "beat_rejected": Kind('Your beat "{{ title }}" was not approved', "you published this beat."),
    "report_outcome": Kind("{% if taken_down %}Your report was acted on{% else %}Your report was reviewed{% endif %}",
                           "you reported a beat."),
    "report_on_your_beat": Kind('A report about your beat "{{ title }}" was reviewed',
                                "someone reported your beat and an administrator reviewed it."),
    "email_change_confirm": Kind("Confirm your new email address",
                                 "this address was given as the new address of an account."),
    "email_changed": Kind("Your account's email address was changed",
                          "this was the address of your account until now."),
    "account_closed": Kind("Your account is closed", "this was the address of the account you closed."),
    "license_revoked": Kind("Your license {{ license_number }} was revoked",
                            "you hold this license."),
    "credit_invitation": Kind('{{ inviter }} invites you to be credited on "{{ title }}"',
                              "a beatmaker invited this address to be credited on their beat."),

    "proposal_update": Kind('{{ {"new": "New offer", "accepted": "Offer accepted", '
                            '"declined": "Offer declined", "countered": "Counter-offer", '
                            '"withdrawn": "Offer withdrawn", "expired": "Offer expired", '
                            '"ended": "Offer ended"}[step] }}: '
                            '"{{ title }}" ({{ tier }}), {{ amount }}',
                            "you made or received this offer on a beat."),
}


def _environment(autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=autoescape,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                     keep_trailing_newline=True)
    # A name or title typed on one line stays one line: it can never open a paragraph of its own.
    environment.filters["line"] = one_line
    return environment


_TEXT, _HTML = _environment(autoescape=False), _environment(autoescape=True)

# Headers up to 998 characters stay on one line (RFC 5322's limit): the standard library folds a
# longer subject right after "Subject:", and mail programs then show it with a leading space.
_POLICY = email.policy.default.clone(max_line_length=998)


def may_send(user: User, name: str) -> bool:
    """False when the message belongs to a category the person turned off, and for a closed
    account (its address is a placeholder that nobody reads)."""
    if user.closed_at is not None:
        return False
    category = KINDS[name].category
    return category is None or bool(getattr(user, f"mail_{category}"))


def compose(name: str, to: str, context: dict[str, Any], *, link_base: str | None = None,
            unsubscribe_token: str | None = None) -> EmailMessage:
    """The message `name` to address `to`, its text and HTML parts rendered with `context`;
    with `unsubscribe_token`, a one-click link to stop mails of its kind."""
    kind = KINDS[name]
    base = (link_base or public_base_url()).rstrip("/")
    unsubscribe_link = f"{base}/unsubscribe?token={unsubscribe_token}" if unsubscribe_token else None
    # Reply-To itself is set by the transport; the footer only says where to write, if anywhere.
    reply_to = current_app.config.get("MAIL_REPLY_TO") or ""
    values = {**context, "base": base, "why": kind.why, "optional": kind.category is not None,
              "settings_link": f"{base}/account#mail-settings", "platform": current_app.config["PLATFORM_NAME"],
              "reply_to": parseaddr(reply_to)[1], "unsubscribe_link": unsubscribe_link}
    message = EmailMessage(policy=_POLICY)
    message["To"] = one_line(to)
    message["Subject"] = one_line(_TEXT.from_string(kind.subject).render(values))
    if unsubscribe_token:
        # Mail programs show these as an unsubscribe button that posts, without opening a page (RFC 8058).
        message["List-Unsubscribe"] = f"<{base}/api/v1/mail-preferences/unsubscribe?token={unsubscribe_token}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_TEXT.get_template(f"{name}.txt").render(values))
    message.add_alternative(_HTML.get_template(f"{name}.html").render(values), subtype="html")
    return message


def send(name: str, user: User, context: dict[str, Any], *, link_base: str | None = None) -> bool:
    """Compose and deliver message `name` to the user, unless they turned its category off.
    True when it was sent."""
    if not may_send(user, name):
        return False
    category = KINDS[name].category
    deliver(compose(name, user.email, {"name": user.display_name, **context}, link_base=link_base,
                    unsubscribe_token=unsubscribe.token_for(user, category) if category else None))
    return True




def send_to_address(name: str, to: str, display_name: str, context: dict[str, Any], *,
                    link_base: str | None = None) -> None:
    """Compose and deliver an essential message `name` to an address that is not (or no longer)
    an account's: a new address to confirm, the old one told of a change, a closed account's."""
    if KINDS[name].category is not None:
        raise ValueError(f"{name} may be turned off: send it to the account, whose settings say")
    deliver(compose(name, to, {"name": display_name, **context}, link_base=link_base))
