"""The outbox page, in development only: the mails the store wrote instead of sending them,
with their links clickable, so signing up or resetting a password works without a mail server.

Registered only when the app runs in development (any other profile answers a plain 404).
The pages carry no script. A mail's HTML is shown in a sandboxed frame (no scripts, no forms,
its own origin) under a policy of its own; links in it open in a new tab.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup, escape

from marketplace.mail import outbox

bp = Blueprint("dev_mail", __name__, url_prefix="/_dev/mail", template_folder="pages")

LISTED = 200
# The HTML part's frame: nothing runs, nothing loads but images from the store and inline
# styles (mail HTML is styled inline); only pages of the store may frame it.
HTML_PART_POLICY = ("default-src 'none'; img-src {origin} data:; style-src 'unsafe-inline'; form-action 'none'; "
                    "base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


@bp.before_request
def development_only():
    if current_app.config["ENV_NAME"] != "development":
        abort(404)


@bp.get("")
def listing():
    return render_template("dev_mail/list.html", mails=outbox.list_mails(LISTED), listed=LISTED,
                           folder=outbox.outbox_folder(), backend=current_app.config["MAIL_BACKEND"])


@bp.get("/<name>")
def show(name: str):
    message = _mail_or_404(name)
    headers = [(header, str(message[header])) for header in ("From", "Reply-To", "To", "Date", "Message-ID")
               if header in message]
    return render_template("dev_mail/show.html", name=name, subject=str(message["Subject"] or ""),
                           headers=headers, text=outbox.text_of(message),
                           has_html=outbox.html_of(message) is not None)


@bp.get("/<name>/html")
def html_part(name: str):
    html = outbox.html_of(_mail_or_404(name))
    if html is None:
        abort(404)
    response = Response(_links_open_in_new_tab(html), mimetype="text/html")
    origin = request.host_url.rstrip("/")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY.format(origin=origin)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<name>/raw")
def raw(name: str):
    message = _mail_or_404(name)
    return Response(bytes(message), mimetype="text/plain")


@bp.app_template_filter("with_links")
def with_links(text: str) -> Markup:
    """Escaped text whose web addresses are links (opening in a new tab)."""
    parts, last = [], 0
    for match in _LINK.finditer(text):
        parts += [escape(text[last:match.start()]),
                  Markup('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>').format(match.group())]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _mail_or_404(name: str):
    try:
        return outbox.read_mail(name)
    except outbox.NoSuchMail:
        abort(404)


def _links_open_in_new_tab(html: str) -> str:
    # A link followed inside the frame would open the store framed, which its pages refuse.
    base = '<base target="_blank">'
    head = _HEAD.search(html)
    if head:
        return html[:head.end()] + base + html[head.end():]
    return base + html
