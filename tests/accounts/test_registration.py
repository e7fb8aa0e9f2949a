from __future__ import annotations

import pytest

from tests.conftest import DEFAULT_PASSWORD, register


def test_register_artist_returns_the_user_without_secrets(client):
    response = register(client, "ann@example.com", "artist")
    assert response.status_code == 201
    body = response.json
    assert body["email"] == "ann@example.com"
    assert body["roles"] == ["artist"]
    assert body["status"] == "active"
    assert body["id"].startswith("usr_")
    assert "password" not in body and "password_hash" not in body


def test_register_beatmaker_gets_the_beatmaker_role(client):
    response = register(client, "bo@example.com", "beatmaker")
    assert response.status_code == 201
    assert response.json["roles"] == ["beatmaker"]


def test_admin_accounts_cannot_be_registered(client):
    response = register(client, "eve@example.com", "admin")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert "account_type" in response.json["error"]["details"]


def test_emails_are_normalised_for_case_and_spaces(client):
    assert register(client, "  Ann.Lee@Example.COM ").json["email"] == "ann.lee@example.com"
    duplicate = register(client, "ANN.LEE@example.com")
    assert duplicate.status_code == 409
    assert duplicate.json["error"]["code"] == "email_taken"


def test_duplicate_email_is_409_and_keeps_the_first_account(client):
    first = register(client, "ann@example.com", display_name="First")
    second = register(client, "ann@example.com", display_name="Second", password="another password")
    assert second.status_code == 409
    assert second.json == {"error": {"code": "email_taken",
                                     "message": "An account with this email already exists.",
                                     "details": {}}}
    # The first account still signs in with its own password; the second's does not work.
    assert client.post("/api/v1/auth/login", json={"email": "ann@example.com",
                                                   "password": DEFAULT_PASSWORD}).status_code == 200
    assert client.post("/api/v1/auth/login", json={"email": "ann@example.com",
                                                   "password": "another password"}).status_code == 401
    assert first.json["display_name"] == "First"


@pytest.mark.parametrize("payload, field", [
    ({"password": DEFAULT_PASSWORD, "display_name": "A", "account_type": "artist"}, "email"),
    ({"email": "a@example.com", "display_name": "A", "account_type": "artist"}, "password"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "account_type": "artist"}, "display_name"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "A"}, "account_type"),
    ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "display_name": "A",
      "account_type": "artist"}, "email"),
    ({"email": 12, "password": DEFAULT_PASSWORD, "display_name": "A", "account_type": "artist"}, "email"),
    ({"email": "a@example.com", "password": ["x"], "display_name": "A", "account_type": "artist"},
     "password"),
    ({"email": "a@example.com", "password": "short", "display_name": "A", "account_type": "artist"},
     "password"),
    ({"email": "a@example.com", "password": "p" * 257, "display_name": "A", "account_type": "artist"},
     "password"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "A" * 81,
      "account_type": "artist"}, "display_name"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "   ",
      "account_type": "artist"}, "display_name"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "A\x00B",
      "account_type": "artist"}, "display_name"),
    ({"email": "a" * 250 + "@example.com", "password": DEFAULT_PASSWORD, "display_name": "A",
      "account_type": "artist"}, "email"),
    ({"email": "a@example.com", "password": DEFAULT_PASSWORD, "display_name": "A",
      "account_type": "artist", "is_admin": True}, "is_admin"),
])
def test_invalid_registrations_are_422_with_the_field_named(client, payload, field):
    response = client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"], error
    # Nothing was stored: the email is still free.
    assert register(client, "a@example.com").status_code == 201


def test_a_json_array_body_is_422_not_500(client):
    response = client.post("/api/v1/auth/register", json=["a@example.com"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


def test_passwords_are_stored_as_argon2id_hashes(app, client):
    from marketplace.accounts.models import User
    from marketplace.db import db

    register(client, "ann@example.com")
    with app.app_context():
        stored = db.session.query(User).one().password_hash
    assert stored.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in stored
