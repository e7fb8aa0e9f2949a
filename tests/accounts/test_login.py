from __future__ import annotations

import datetime as dt

from marketplace.accounts.models import AccessToken
from marketplace.accounts.services import hash_token
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD, bearer, login, register


def test_login_returns_an_opaque_bearer_token(client):
    register(client)
    response = login(client)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 24 * 3600
    assert body["access_token"].startswith("mkt_") and len(body["access_token"]) > 40
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json["email"] == "ann@example.com"
    assert set(me.json) >= {"id", "email", "display_name", "roles", "status"}


def test_login_email_is_case_and_space_insensitive(client):
    register(client, "ann@example.com")
    assert login(client, "  ANN@Example.com ").status_code == 200


def test_tokens_are_stored_hashed_never_in_clear(app, client):
    register(client)
    token = login(client).json["access_token"]
    with app.app_context():
        stored = db.session.query(AccessToken).one()
        assert stored.token_hash == hash_token(token)
        assert token not in stored.token_hash


def test_wrong_password_and_unknown_email_answer_the_same(client):
    register(client)
    wrong_password = login(client, "ann@example.com", "not the password")
    unknown_email = login(client, "nobody@example.com", DEFAULT_PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json == unknown_email.json
    assert wrong_password.json["error"]["code"] == "invalid_credentials"


def test_logout_revokes_only_that_token(client):
    register(client)
    first = login(client).json["access_token"]
    second = login(client).json["access_token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    revoked = client.get("/api/v1/me", headers=bearer(first))
    assert revoked.status_code == 401
    assert revoked.json["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    # Logging out twice with the same token is an authentication error, not a crash.
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 401


def test_expired_tokens_stop_working(app, client):
    register(client)
    token = login(client).json["access_token"]
    with app.app_context():
        stored = db.session.query(AccessToken).one()
        stored.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
        db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_me_without_a_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "authentication_required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_malformed_authorization_headers_are_401(client):
    for header in ["Bearer", "Basic dXNlcjpwYXNz", "Bearer    ", "mkt_abc", "Bearer mkt_forged"]:
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["error"]["code"] in ("authentication_required", "invalid_token")


def test_invalid_login_payloads_are_422(client):
    for payload in [{}, {"email": "a@example.com"}, {"password": "x"},
                    {"email": ["a"], "password": "x"}, {"email": "a@example.com", "password": ""}]:
        response = client.post("/api/v1/auth/login", json=payload)
        assert response.status_code == 422, payload
        assert response.json["error"]["code"] == "validation_failed"
