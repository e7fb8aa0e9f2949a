"""Password hashing with argon2id (OWASP's first choice), rehashed when parameters change.

The cost parameters come from the settings (ARGON2_*): production keeps argon2-cffi's
defaults; the test profile lowers them so hundreds of sign-ins run in seconds.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app


class Passwords:
    def __init__(self, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib,
                                      parallelism=parallelism)
        # Verified against when the email is unknown, so a wrong email costs as much time
        # as a wrong password and response times do not reveal which accounts exist.
        self._unknown_user_hash = self._hasher.hash("no account has this password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(password_hash or self._unknown_user_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def init_passwords(app: Flask) -> None:
    app.extensions["passwords"] = Passwords(app.config["ARGON2_TIME_COST"],
                                            app.config["ARGON2_MEMORY_COST_KIB"],
                                            app.config["ARGON2_PARALLELISM"])


def passwords() -> Passwords:
    return current_app.extensions["passwords"]
