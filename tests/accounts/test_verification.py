"""Proving an address: the link mailed at sign-up verifies it (no sign-in needed), once, and
only for the address it was sent to; selling, payouts and reports wait for it; a password
reset proves the mailbox too, so its owner takes over an account someone else registered."""

from __future__ import annotations

import io
import re

from marketplace.accounts import services
from marketplace.db import db
from tests.checkout.conftest import outbox  # noqa: F401
from tests.conftest import DEFAULT_PASSWORD, bearer, login, register
from tests.licensing.conftest import masters, seller, upload_beat  # noqa: F401
from tests.media import make_beat

LINK = re.compile(r"(http://\S+/verify-email\?token=(\S+))")


def verification_tokens(sent, address="ann@example.com") -> list[str]:
    return [LINK.search(body).group(2) for body in sent()
            if "Subject: Verify your email address" in body and f"To: {address}" in body]


def verify(client, token):
    return client.post("/api/v1/auth/verify-email", json={"token": token})


def signed_up(client, account_type="artist") -> dict[str, str]:
    assert register(client, account_type=account_type).status_code == 201
    return bearer(login(client).json["access_token"])


def test_the_link_mailed_at_sign_up_verifies_the_address_without_signing_in(client, outbox):
    headers = signed_up(client)
    assert client.get("/api/v1/me", headers=headers).json["email_verified"] is False
    [token] = verification_tokens(outbox)
    assert verify(client, token).status_code == 204  # no Authorization header: opened on a phone
    assert client.get("/api/v1/me", headers=headers).json["email_verified"] is True
    again = verify(client, token)
    assert again.status_code == 409 and again.json["error"]["code"] == "email_already_verified"


def test_a_forged_or_tampered_token_is_refused_in_words(client, outbox):
    signed_up(client)
    [token] = verification_tokens(outbox)
    for bad in ("made-up", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        refused = verify(client, bad)
        assert refused.status_code == 400 and "expired" in refused.json["error"]["message"]
    assert client.get("/api/v1/me", headers=bearer(login(client).json["access_token"])).json[
        "email_verified"] is False


def test_an_expired_link_is_refused(app, client, outbox):
    signed_up(client)
    [token] = verification_tokens(outbox)
    app.config["EMAIL_VERIFICATION_LINK_HOURS"] = -1
    try:
        assert verify(client, token).status_code == 400
    finally:
        app.config["EMAIL_VERIFICATION_LINK_HOURS"] = 72


def test_unverified_accounts_browse_and_buy_but_do_not_sell_get_paid_or_report(client, outbox, tmp_path):
    headers = signed_up(client, "beatmaker")
    assert client.get("/api/v1/beats").status_code == 200
    master = make_beat(tmp_path / "early.wav", seconds=12)
    upload = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data",
                         data={"title": "Early", "bpm": "90", "file": (io.BytesIO(master.read_bytes()), "early.wav")})
    assert upload.status_code == 403 and upload.json["error"]["code"] == "email_not_verified"
    assert "put beats up for sale" in upload.json["error"]["message"]
    payouts = client.post("/api/v1/payouts/account", headers=headers, json={"country": "US"})
    assert payouts.status_code == 403 and payouts.json["error"]["code"] == "email_not_verified"


def test_resending_is_limited_and_refused_once_verified(client, outbox):
    headers = signed_up(client)
    for _ in range(3):  # VERIFICATION_MAILS_PER_ACCOUNT: "3 per hour"
        assert client.post("/api/v1/me/verification-email", headers=headers).status_code == 202
    assert client.post("/api/v1/me/verification-email", headers=headers).status_code == 429
    tokens = verification_tokens(outbox)
    assert len(tokens) == 4  # the sign-up's and three more, each of them works
    assert verify(client, tokens[1]).status_code == 204
    done = client.post("/api/v1/me/verification-email", headers=headers)
    assert done.status_code == 409


def test_a_link_for_an_address_the_account_no_longer_has_is_refused(app, client, outbox):
    signed_up(client)
    [token] = verification_tokens(outbox)
    with app.app_context():
        services.find_user_by_email("ann@example.com").email = "ann.new@example.com"
        db.session.commit()
    assert verify(client, token).status_code == 400


def test_the_mailbox_owner_reclaims_an_address_through_a_password_reset(client, outbox):
    """Someone registered Ann's address and never verified it: Ann resets the password from her
    mailbox, which proves it, and the squatter's sessions end."""
    squatter = signed_up(client)
    from tests.accounts.test_password_reset import ask, complete, mailed_tokens

    ask(client)
    [reset] = mailed_tokens(outbox)
    assert complete(client, reset, "ann owns this mailbox").status_code == 204
    assert client.get("/api/v1/me", headers=squatter).status_code == 401
    assert login(client, password=DEFAULT_PASSWORD).status_code == 401
    mine = bearer(login(client, password="ann owns this mailbox").json["access_token"])
    assert client.get("/api/v1/me", headers=mine).json["email_verified"] is True


def test_an_unverified_account_cannot_report_a_beat_until_it_verifies(client, outbox, seller, upload_beat):
    beat_id = upload_beat(seller[1], stems=False)
    headers = signed_up(client)
    report = {"reason": "copyright", "details": "This is my beat, released in 2021."}
    refused = client.post(f"/api/v1/beats/{beat_id}/reports", json=report, headers=headers)
    assert refused.status_code == 403 and "report a beat" in refused.json["error"]["message"]
    [token] = verification_tokens(outbox)
    assert verify(client, token).status_code == 204
    assert client.post(f"/api/v1/beats/{beat_id}/reports", json=report, headers=headers).status_code == 201
