"""Nobody is credited by account without consent: invitations by address or handle, answered by
the invited person only (their verified address, their account, or the single-use mailed link),
and only accepted credits name an account in public."""

from __future__ import annotations

import hashlib
import re
import threading

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role
from marketplace.catalog.models import BeatCredit
from marketplace.collaborators.models import CreditInvitation
from marketplace.db import db
from marketplace.payouts.models import LedgerEntry
from tests.conftest import bearer, login, mail_text, register, skip_unless_postgres

TOKEN = re.compile(r"/credit-invitation\?token=(\S+)")


def token_in(mail) -> str:
    return TOKEN.search(mail_text(mail)).group(1)


def mails_to(mailbox, address):
    return [m for m in mailbox() if m["To"] == address]


def test_another_account_cannot_be_linked_without_an_invitation(app, client, beatmaker, make_user, put_credits):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    before = client.get(f"/api/v1/beats/{beat}/credits").json
    for someone in (cleo, "usr_DOESNOTEXIST"):
        response = put_credits(anna_headers, beat, [
            {"name": "Anna", "user_id": anna, "role": "producer", "profit_share_bps": 6000},
            {"name": "Cleo", "user_id": someone, "role": "co_producer", "profit_share_bps": 4000}])
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "consent_required"
        assert "invite them" in response.json["error"]["message"]
        assert "credits.1.user_id" in response.json["error"]["details"]
    assert client.get(f"/api/v1/beats/{beat}/credits").json == before
    # The owner's own account, and names only, are credited as before.
    response = put_credits(anna_headers, beat, [
        {"name": "Anna", "user_id": anna, "role": "producer", "profit_share_bps": 6000},
        {"name": "Cleo", "role": "co_producer", "profit_share_bps": 4000}])
    assert response.status_code == 200, response.json
    # And the database refuses a linked credit that was not accepted, whatever the code does.
    with app.app_context():
        credit = db.session.scalar(select(BeatCredit).where(BeatCredit.beat_id == beat, BeatCredit.position == 1))
        credit.user_id = cleo
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_an_invitation_to_an_address_without_an_account_is_accepted_after_signing_up(
        app, client, beatmaker, put_credits, mailbox, invitations_of):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    response = put_credits(anna_headers, beat, [
        {"name": "Anna", "user_id": anna, "role": "producer", "profit_share_bps": 8000},
        {"name": "Zoë 鈴木", "role": "songwriter", "profit_share_bps": 2000, "publishing_share_bps": 5000,
         "pro": "JASRAC", "ipi": "00123456789", "invite": {"email": "Newcomer@Example.com"}}])
    assert response.status_code == 200, response.json
    mail = mails_to(mailbox, "newcomer@example.com")[0]
    assert "Anna" in mail["Subject"] and "Zoë 鈴木" in mail_text(mail) and "20%" in mail_text(mail)
    token = token_in(mail)
    with app.app_context():  # only the token's SHA-256 is kept
        stored = db.session.scalar(select(CreditInvitation.token_hash))
        assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored

    assert register(client, "newcomer@example.com", display_name="Zoë").status_code == 201
    zoe = bearer(login(client, "newcomer@example.com").json["access_token"])
    # Until the address is verified, the account does not see or answer invitations to it...
    assert invitations_of(zoe) == []
    invitation_id = response.json["credits"][1]["invitation_id"]
    assert client.post(f"/api/v1/me/credit-invitations/{invitation_id}/accept", headers=zoe).status_code == 404
    verify = [m for m in mails_to(mailbox, "newcomer@example.com") if "verify-email" in mail_text(m)][0]
    verify_token = re.search(r"/verify-email\?token=(\S+)", mail_text(verify)).group(1)
    assert client.post("/api/v1/auth/verify-email", json={"token": verify_token}).status_code == 204
    # ...then it does, with the beat, the role and the proposed shares.
    [seen] = invitations_of(zoe)
    assert (seen["beat"]["id"], seen["role_label"], seen["profit_share_bps"], seen["publishing_share_bps"]) == (
        beat, "Written by", 2000, 5000)
    assert "invited" not in seen and "held" not in seen
    accepted = client.post(f"/api/v1/me/credit-invitations/{seen['id']}/accept", headers=zoe)
    assert accepted.status_code == 200, accepted.json
    me = client.get("/api/v1/me", headers=zoe).json
    credit = client.get(f"/api/v1/beats/{beat}/credits").json["credits"][1]
    assert (credit["user_id"], credit["status"], credit["name"], credit["pro"], credit["ipi"]) == (
        me["id"], "accepted", "Zoë 鈴木", "JASRAC", "00123456789")
    # The link was for a decision made since: it no longer works.
    lookup = client.post("/api/v1/credit-invitations/lookup", json={"token": token})
    assert lookup.status_code == 400 and lookup.json["error"]["code"] == "invitation_link_unusable"


def test_the_wrong_account_cannot_accept(app, client, beatmaker, make_user, headers_for, email_of, mailbox,
                                         invitations_of):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    cleo, dan = make_user(Role.BEATMAKER, "Cleo"), make_user(Role.ARTIST, "Dan")
    dan_headers = headers_for(dan)
    by_email = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": email_of(cleo), "name": "Cleo", "role": "co_producer", "profit_share_bps": 1000}).json
    assert invitations_of(dan_headers) == []
    for answer in ("accept", "decline"):
        response = client.post(f"/api/v1/me/credit-invitations/{by_email['id']}/{answer}", headers=dan_headers)
        assert response.status_code == 404, response.json
    assert client.get(f"/api/v1/beats/{beat}/split-sheet", headers=dan_headers).status_code == 404
    assert client.get(f"/api/v1/beats/{beat}/split-sheet", headers=headers_for(cleo)).status_code == 200
    # An invitation to a handle is that account's, even to someone holding its link.
    assert client.put("/api/v1/me/profile", json={"handle": "cleo", "display_name": "Cleo"},
                      headers=headers_for(cleo)).status_code == 200
    by_handle = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "handle": "cleo", "name": "Cleo", "role": "mix_engineer"}).json
    token = token_in(mails_to(mailbox, email_of(cleo))[-1])
    stolen = client.post("/api/v1/credit-invitations/accept", json={"token": token}, headers=dan_headers)
    assert stolen.status_code == 403 and stolen.json["error"]["code"] == "invitation_not_yours"
    # The owner is not an invitee of their own beat.
    own = client.post(f"/api/v1/me/credit-invitations/{by_email['id']}/accept", headers=anna_headers)
    assert own.status_code == 404
    statuses = {i["id"]: i["status"] for i in client.get(f"/api/v1/beats/{beat}/invitations",
                                                         headers=anna_headers).json["items"]}
    assert statuses == {by_email["id"]: "pending", by_handle["id"]: "pending"}
    myself = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": email_of(anna), "name": "Anna", "role": "mix_engineer"})
    assert myself.status_code == 422, myself.json


def test_the_mailed_link_works_once(client, beatmaker, make_user, headers_for, email_of, mailbox):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": email_of(cleo), "name": "Cleo", "role": "co_producer", "profit_share_bps": 1000})
    token = token_in(mails_to(mailbox, email_of(cleo))[-1])
    shown = client.post("/api/v1/credit-invitations/lookup", json={"token": token})
    assert shown.status_code == 200 and shown.json["beat"]["id"] == beat
    assert client.post("/api/v1/credit-invitations/accept", json={"token": token}).status_code == 401
    first = client.post("/api/v1/credit-invitations/accept", json={"token": token}, headers=headers_for(cleo))
    assert first.status_code == 200 and first.json["status"] == "accepted"
    for path in ("accept", "decline"):
        again = client.post(f"/api/v1/credit-invitations/{path}", json={"token": token}, headers=headers_for(cleo))
        assert again.status_code == 400 and again.json["error"]["code"] == "invitation_link_unusable"
    assert client.post("/api/v1/credit-invitations/decline", json={"token": "cin_nonsense"}).status_code == 400


def test_declining_by_link_needs_no_account(client, beatmaker, mailbox, sent_for):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": "stranger@example.com", "name": "Stranger", "role": "co_producer"})
    token = token_in(mails_to(mailbox, "stranger@example.com")[-1])
    declined = client.post("/api/v1/credit-invitations/decline", json={"token": token})
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert sent_for(anna_headers, beat)[0]["status"] == "declined"


def test_only_accepted_credits_name_an_account_in_public(app, client, beatmaker, make_user, headers_for, email_of,
                                                          invitations_of):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    assert client.put("/api/v1/me/profile", json={"handle": "cleo", "display_name": "Cleo"},
                      headers=cleo_headers).status_code == 200
    client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "handle": "cleo", "name": "Cleo", "role": "co_producer", "profit_share_bps": 3000})

    def public_credit():
        page = client.get(f"/api/v1/beats/{beat}").json["credits"][1]
        listed = [b for b in client.get("/api/v1/beats", query_string={"q": "Cleo"}).json["items"] if b["id"] == beat]
        return page, listed[0]["credits"][1] if listed else None

    page, listed = public_credit()
    assert (page["name"], page["status"], page["user_id"], page["handle"]) == ("Cleo", "pending", None, None)
    assert listed == page
    assert client.get("/api/v1/profiles/cleo").json["credits"] == []

    [invitation] = invitations_of(cleo_headers)
    assert client.post(f"/api/v1/me/credit-invitations/{invitation['id']}/accept",
                       headers=cleo_headers).status_code == 200
    page, listed = public_credit()
    assert (page["status"], page["user_id"], page["handle"]) == ("accepted", cleo, "cleo")
    assert listed == page
    assert [c["beat"]["id"] for c in client.get("/api/v1/profiles/cleo").json["credits"]] == [beat]


def test_accept_and_decline_at_once_give_one_outcome(app, live_server, beatmaker, make_user, headers_for, email_of,
                                                      new_buyer, buy):
    skip_unless_postgres("concurrent answers on one database")
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    outcomes = []
    for round_ in range(3):
        cleo = make_user(Role.BEATMAKER, f"Cleo {round_}")
        cleo_headers = headers_for(cleo)
        invitation = requests.post(f"{live_server}/api/v1/beats/{beat}/invitations", headers=anna_headers, timeout=30,
                                   json={"email": email_of(cleo), "name": f"Cleo {round_}", "role": "co_producer",
                                         "profit_share_bps": 1000}).json()
        buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
        barrier = threading.Barrier(2)
        answers: dict[str, int] = {}
        lock = threading.Lock()

        def answer(path: str) -> None:
            barrier.wait()
            response = requests.post(f"{live_server}/api/v1/me/credit-invitations/{invitation['id']}/{path}",
                                     headers=cleo_headers, timeout=30)
            with lock:
                answers[path] = response.status_code

        threads = [threading.Thread(target=answer, args=(path,)) for path in ("accept", "decline")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(answers.values()) == [200, 409], answers
        winner = next(path for path, status in answers.items() if status == 200)
        with app.app_context():
            stored = db.session.get(CreditInvitation, invitation["id"])
            assert stored.status == {"accept": "accepted", "decline": "declined"}[winner]
            releases = db.session.scalars(select(LedgerEntry).where(
                LedgerEntry.credit_invitation_id == invitation["id"], LedgerEntry.kind == "held_release")).all()
            assert len(releases) == 1 and releases[0].reason == stored.status
        outcomes.append(winner)
    assert len(outcomes) == 3


def test_an_account_sends_a_limited_number_of_invitations(app, client, beatmaker):
    anna, anna_headers, beat, _ = beatmaker("Anna")
    limit = app.config["CREDIT_INVITATIONS_PER_ACCOUNT"]
    app.config["CREDIT_INVITATIONS_PER_ACCOUNT"] = "2 per hour"
    try:
        answers = [client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
            "email": f"guest{n}@example.com", "name": f"Guest {n}", "role": "mix_engineer"}) for n in range(3)]
    finally:
        app.config["CREDIT_INVITATIONS_PER_ACCOUNT"] = limit
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json["error"]["code"] == "rate_limited"
    assert len(client.get(f"/api/v1/beats/{beat}/invitations", headers=anna_headers).json["items"]) == 2
