"""Passwords attackers try first, and passwords built on the account's own address, are refused
in words at sign-up and at a reset; a passphrase of a few words is welcome."""

from __future__ import annotations

import pytest

from tests.checkout.conftest import outbox  # noqa: F401
from tests.conftest import register

COMMON = ["1234567890", "password123", "qwertyuiop", "iloveyou123", "abc123abc123"]


@pytest.mark.parametrize("password", COMMON)
def test_a_common_password_is_refused_at_sign_up(client, password):
    answer = register(client, "ann@example.com", password=password)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "weak_password"
    assert "common passwords" in answer.json["error"]["message"]
    assert answer.json["error"]["details"]["fields"]["password"]


@pytest.mark.parametrize("email, password", [
    ("marcus@example.com", "marcus-rocks-2026"), ("Marcus@Example.com", "MARCUS beats forever"),
    ("dj.kaya@example.com", "x dj.kaya x 12345")])
def test_a_password_containing_the_address_name_is_refused(client, email, password):
    answer = register(client, email, password=password)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "weak_password"
    assert "email address" in answer.json["error"]["message"]


@pytest.mark.parametrize("email, password", [
    ("ann@example.com", "ann and her long passphrase"),  # a name of three letters is too common to refuse
    ("marcus@example.com", "velvet hours at dawn"), ("kaya@example.com", "🎧 lagos sunset 🌅 tonight")])
def test_passphrases_are_welcome(client, email, password):
    assert register(client, email, password=password).status_code == 201


def test_a_reset_refuses_a_weak_password_and_keeps_the_link(client, outbox):
    from tests.accounts.test_password_reset import ask, complete, mailed_tokens

    register(client)
    ask(client)
    [token] = mailed_tokens(outbox)
    weak = complete(client, token, "1234567890")
    assert weak.status_code == 422 and weak.json["error"]["code"] == "weak_password"
    assert complete(client, token, "a strong new passphrase").status_code == 204
