"""Strikes and suspensions: three active strikes suspend automatically; a suspension stops
sign-in and tokens at once, hides the user's beats and stops their sales; lifting it brings
back exactly the beats it hid."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.db import db
from marketplace.moderation.models import BeatRestriction
from tests.conftest import login
from tests.moderation.conftest import listed, mails_to


def email_of(app, user_id):
    with app.app_context():
        return accounts.get_user(user_id).email


def strike(client, admin_headers, user_id, reason="Uploaded a stolen beat."):
    return client.post(f"/api/v1/admin/users/{user_id}/strike", json={"reason": reason}, headers=admin_headers)


def test_the_third_active_strike_suspends_the_account_automatically(app, client, owner, make_beat, admin,
                                                                   audit_entries, outbox):
    user_id, headers = owner
    beat = make_beat(user_id)
    first = strike(client, admin[1], user_id)
    assert first.status_code == 200, first.json
    assert first.json["active_strikes"] == 1 and first.json["strikes_to_suspend"] == 3
    strike(client, admin[1], user_id)
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # two strikes: still active
    third = strike(client, admin[1], user_id, "Third stolen beat.")
    assert third.json["status"] == "suspended" and third.json["active_strikes"] == 3

    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "account_suspended"
    assert login(client, email_of(app, user_id)).json["error"]["code"] == "account_suspended"
    assert beat not in listed(client)
    auto = audit_entries(action="user.auto_suspend")
    assert len(auto) == 1
    assert (auto[0]["actor_kind"], auto[0]["actor_id"], auto[0]["target_id"]) == ("system", None, user_id)
    assert auto[0]["reason"] == "3 active strikes (the limit is 3)."
    assert auto[0]["before"]["status"] == "active" and auto[0]["after"]["hidden_beats"] == [beat]
    strikes = audit_entries(action="user.strike")
    assert [(e["actor_id"], e["after"]["active_strikes"]) for e in strikes] == [(admin[0], 1), (admin[0], 2),
                                                                                (admin[0], 3)]
    # The third strike and the suspension it caused were one transaction, one request.
    assert strikes[-1]["request_id"] == auto[0]["request_id"] is not None
    assert len(mails_to(outbox, email_of(app, user_id), "strike was recorded")) == 3
    assert mails_to(outbox, email_of(app, user_id), "Your account is suspended")


def test_the_number_of_strikes_is_configurable_and_lifted_strikes_do_not_count(app, client, owner, admin,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "MODERATION_STRIKES_TO_SUSPEND", 2)
    user_id = owner[0]
    first = strike(client, admin[1], user_id).json["strikes"][0]["id"]
    lifted = client.post(f"/api/v1/admin/strikes/{first}/lift", json={"reason": "Mistaken identity."},
                         headers=admin[1])
    assert lifted.status_code == 200 and lifted.json["active_strikes"] == 0
    assert lifted.json["strikes"][0]["active"] is False and lifted.json["strikes"][0]["lift_reason"]
    again = client.post(f"/api/v1/admin/strikes/{first}/lift", json={"reason": "x"}, headers=admin[1])
    assert again.status_code == 409 and again.json["error"]["code"] == "strike_lifted"
    assert strike(client, admin[1], user_id).json["status"] == "active"  # one active strike of two
    assert strike(client, admin[1], user_id).json["status"] == "suspended"


def test_suspension_hides_beats_stops_sales_and_unsuspend_brings_back_exactly_those(
        app, client, owner, make_beat, admin, new_buyer, audit_entries, outbox):
    user_id, headers = owner
    kept, taken_down, archived = make_beat(user_id), make_beat(user_id), make_beat(user_id)
    client.delete(f"/api/v1/beats/{archived}", headers=headers)
    client.post(f"/api/v1/admin/beats/{taken_down}/takedown", json={"reason": "Offensive cover."},
                headers=admin[1])

    suspended = client.post(f"/api/v1/admin/users/{user_id}/suspend", json={"reason": "Fraudulent sales."},
                            headers=admin[1])
    assert suspended.status_code == 200 and suspended.json["status"] == "suspended"
    assert client.get("/api/v1/me", headers=headers).status_code == 403
    assert kept not in listed(client) and client.get(f"/api/v1/beats/{kept}").status_code == 404
    assert client.get(f"/api/v1/beats/{kept}/preview").status_code == 404
    _buyer, buyer_headers = new_buyer()
    refused = client.post("/api/v1/checkout", json={"items": [{"beat_id": kept, "tier_id": "tier_x"}]},
                          headers=buyer_headers)
    assert refused.status_code == 422 and "not for sale" in refused.json["error"]["message"]
    with app.app_context():
        held = {row.beat_id: row.cause for row in db.session.scalars(
            select(BeatRestriction).where(BeatRestriction.lifted_at.is_(None)))}
    assert held == {kept: "suspension", taken_down: "takedown"}  # the archived beat is left as it is

    unsuspended = client.post(f"/api/v1/admin/users/{user_id}/unsuspend", json={}, headers=admin[1])
    assert unsuspended.status_code == 200 and unsuspended.json["status"] == "active"
    assert kept in listed(client) and taken_down not in listed(client)
    with app.app_context():
        assert catalog.get_beat(archived).status == "archived"
        assert catalog.get_beat(taken_down).status == "taken_down"
    # Old tokens stay revoked; signing in again works.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client, email_of(app, user_id)).status_code == 200
    [entry] = audit_entries(action="user.unsuspend")
    assert entry["after"]["restored_beats"] == [kept] and entry["actor_id"] == admin[0]
    assert mails_to(outbox, email_of(app, user_id), "Your account is active again")


def test_a_beat_processed_while_its_owner_is_suspended_stays_hidden_until_unsuspended(app, client, owner,
                                                                                   make_beat, admin):
    user_id = owner[0]
    beat = make_beat(user_id, publish=False)
    client.post(f"/api/v1/admin/users/{user_id}/suspend", json={"reason": "Spam."}, headers=admin[1])
    with app.app_context():
        catalog.publish_processed(catalog.get_beat(beat))  # the preview job finishing
        db.session.commit()
        assert catalog.get_beat(beat).status == "taken_down"
    client.post(f"/api/v1/admin/users/{user_id}/unsuspend", json={}, headers=admin[1])
    assert beat in listed(client)


def test_suspend_and_strike_refuse_what_does_not_apply(client, owner, make_user, admin):
    user_id = owner[0]
    url = f"/api/v1/admin/users/{user_id}"
    not_suspended = client.post(f"{url}/unsuspend", json={}, headers=admin[1])
    assert not_suspended.status_code == 409 and not_suspended.json["error"]["code"] == "not_suspended"
    assert client.post(f"{url}/suspend", json={}, headers=admin[1]).status_code == 422  # a reason is needed
    assert client.post(f"{url}/suspend", json={"reason": "Spam."}, headers=admin[1]).status_code == 200
    twice = client.post(f"{url}/suspend", json={"reason": "Spam."}, headers=admin[1])
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_suspended"
    other_admin = make_user(Role.ADMIN)
    for action in ("suspend", "strike"):
        refused = client.post(f"/api/v1/admin/users/{other_admin}/{action}", json={"reason": "x"}, headers=admin[1])
        assert refused.status_code == 409 and refused.json["error"]["code"] == "target_is_admin"
    assert client.post("/api/v1/admin/users/usr_nope/strike", json={"reason": "x"},
                       headers=admin[1]).json["error"]["code"] == "user_not_found"
    assert client.post("/api/v1/admin/strikes/stk_nope/lift", json={"reason": "x"}, headers=admin[1]).status_code == 404


def test_an_admin_sees_an_account_and_the_user_sees_their_own_standing(client, owner, make_beat, admin):
    user_id, headers = owner
    beat = make_beat(user_id)
    strike(client, admin[1], user_id, "Misleading credits.")
    client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": "Credits are false."}, headers=admin[1])
    seen = client.get(f"/api/v1/admin/users/{user_id}", headers=admin[1]).json
    assert seen["roles"] == ["beatmaker"] and seen["active_strikes"] == 1
    mine = client.get("/api/v1/me/moderation", headers=headers).json
    assert mine["status"] == "active" and mine["active_strikes"] == 1 and mine["strikes_to_suspend"] == 3
    assert mine["strikes"][0]["reason"] == "Misleading credits."
    assert [(b["beat_id"], b["cause"], b["reason"]) for b in mine["held_beats"]] == [
        (beat, "takedown", "Credits are false.")]


def test_the_suspend_commands_are_audited_as_the_operator(app, client, owner, make_beat, audit_entries):
    user_id = owner[0]
    beat = make_beat(user_id)
    runner = app.test_cli_runner()
    email = email_of(app, user_id)
    result = runner.invoke(args=["users", "suspend", email, "--reason", "Chargebacks."])
    assert result.exit_code == 0 and "1 beats left the store" in result.output
    assert beat not in listed(client)
    assert runner.invoke(args=["users", "suspend", email]).exit_code != 0  # already suspended
    assert runner.invoke(args=["users", "unsuspend", email]).exit_code == 0
    assert beat in listed(client)
    assert [(e["action"], e["actor_kind"], e["actor_id"]) for e in audit_entries()] == [
        ("user.suspend", "cli", None), ("user.unsuspend", "cli", None)]
    assert audit_entries()[0]["reason"] == "Chargebacks."
