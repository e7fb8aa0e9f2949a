from __future__ import annotations

from marketplace.accounts import services
from marketplace.accounts.models import UserStatus
from marketplace.db import db
from tests.conftest import bearer, login, register


def _set_status(app, email, status):
    with app.app_context():
        services.set_status(services.find_user_by_email(email), status)
        db.session.commit()


def test_suspension_stops_existing_tokens_at_once(app, client, signed_in):
    headers = signed_in("ann@example.com")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _set_status(app, "ann@example.com", UserStatus.SUSPENDED)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "account_suspended"


def test_suspended_accounts_cannot_sign_in_and_unsuspend_restores(app, client, signed_in):
    headers = signed_in("ann@example.com")
    _set_status(app, "ann@example.com", UserStatus.SUSPENDED)
    refused = login(client)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "account_suspended"
    _set_status(app, "ann@example.com", UserStatus.ACTIVE)
    # Lifting the suspension does not revive old tokens (they may have been stolen).
    revived = client.get("/api/v1/me", headers=headers)
    assert revived.status_code == 401 and revived.json["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/me", headers=bearer(login(client).json["access_token"])).status_code == 200


def test_suspended_account_with_wrong_password_is_told_nothing_more(app, client):
    register(client)
    _set_status(app, "ann@example.com", UserStatus.SUSPENDED)
    response = login(client, password="wrong password here")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_revoke_all_tokens_signs_out_everywhere(app, client, signed_in):
    first = signed_in("ann@example.com")
    second = bearer(login(client).json["access_token"])
    with app.app_context():
        services.revoke_all_tokens(services.find_user_by_email("ann@example.com"))
        db.session.commit()
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 401
