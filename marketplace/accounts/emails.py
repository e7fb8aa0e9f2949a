"""One mailbox, one account: how an email address is normalised and compared.

An address is stored normalised: NFKC (so fullwidth "ａｎｎ@ｅｘａｍｐｌｅ.ｃｏｍ" is "ann@example.com"),
case-folded, with its domain in ASCII (IDNA) form. Two addresses that a person cannot tell apart
share one key, `email_key`: the Cyrillic "а" in "аnn@example.com" and the Greek "ο" in
"ann@example.cοm" read as Latin letters there, and invisible characters are dropped. The users
table holds that key under a unique index, so the database itself refuses a second account for
what looks like the same mailbox.

Plain ASCII is never changed by the key: "bob1@" and "bobl@" are different mailboxes.
"""

from __future__ import annotations

import unicodedata

# Letters of other scripts (and Latin variants) that look like a lowercase ASCII letter.
LOOKALIKES = {
    # Cyrillic
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l", "о": "o", "р": "p",
    "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    # Greek
    "α": "a", "ϲ": "c", "ι": "i", "ϳ": "j", "κ": "k", "ο": "o", "ρ": "p", "υ": "u", "ν": "v", "χ": "x",
    # Armenian
    "ց": "g", "հ": "h", "ո": "n", "օ": "o", "զ": "q", "ս": "u",
    # Latin variants
    "ɑ": "a", "ɡ": "g", "ı": "i", "ɩ": "i", "ȷ": "j", "ᴏ": "o",
}


def normalise_email(email: str) -> str:
    """NFKC, trimmed, case-folded, with the domain in its ASCII (IDNA) form: the stored form."""
    text = unicodedata.normalize("NFKC", email.strip())
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text.casefold()
    return f"{local.casefold()}@{_ascii_domain(domain.casefold())}"


def has_quoted_local_part(email: str) -> bool:
    """A quoted local part ("ann smith"@example.com) is allowed by the standard, refused here:
    mail systems disagree on whether the quotes and what they hold are part of the mailbox."""
    return normalise_email(email).rpartition("@")[0].startswith('"')


def email_key(email: str) -> str:
    """What a person sees of the address: equal for spellings they cannot tell apart."""
    local, _, domain = normalise_email(email).rpartition("@")
    return f"{_skeleton(local)}@{_skeleton(_unicode_domain(domain))}"


def _skeleton(text: str) -> str:
    return "".join(LOOKALIKES.get(character, character) for character in text
                   if unicodedata.category(character) != "Cf")  # joiners, soft hyphens: invisible


def _ascii_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain  # not a valid domain; validation refuses it where it matters


def _unicode_domain(domain: str) -> str:
    try:
        return domain.encode("ascii").decode("idna").casefold()
    except UnicodeError:
        return domain
