"""A download of what the store holds about a person: their profile and sessions, orders and
licenses bought, beats and credits, sales and licenses sold, payouts, reports filed and
strikes; no other person's details and no secret's hash."""

from __future__ import annotations

import json

from marketplace.accounts.models import User
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD


def export(client, headers) -> dict:
    response = client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="my-data-') and disposition.endswith('.json"')
    return json.loads(response.data)


def test_a_beatmaker_and_a_buyer_each_get_what_the_store_holds_about_them(
        app, client, beatmaker, new_buyer, buy, credit, connect, make_user, admin_headers, outbox):
    maker_id, maker, beat_id, tiers = beatmaker("Metro 🎹")
    partner_id = make_user(name="Partner Ünal")
    credit(maker, beat_id, [("Metro 🎹", maker_id, "producer", 7000),
                            ("Partner Ünal", partner_id, "co_producer", 3000)])
    connect(maker, onboard=False)
    buyer_id, buyer = new_buyer("Zoë جود")
    order = buy(buyer, [(beat_id, tiers["Basic"]["id"])])
    [license_] = order["licenses"]
    assert client.post(f"/api/v1/beats/{beat_id}/reports", headers=buyer,
                       json={"reason": "other", "details": "Sounds like mine 🎶"}).status_code == 201
    assert client.post(f"/api/v1/admin/users/{maker_id}/strike", headers=admin_headers,
                       json={"reason": "Spam titles"}).status_code == 200
    change = {"new_email": "zoe.new@example.org", "password": DEFAULT_PASSWORD}
    assert client.post("/api/v1/me/email", headers=buyer, json=change).status_code == 202
    with app.app_context():
        buyer_email = db.session.get(User, buyer_id).email

    mine = export(client, buyer)
    assert mine["profile"]["id"] == buyer_id and mine["profile"]["display_name"] == "Zoë جود"
    assert mine["profile"]["email"] == buyer_email
    assert mine["profile"]["pending_email_change"]["new_email"] == "zoe.new@example.org"
    assert len(mine["sessions"]) >= 1 and all("device" in session for session in mine["sessions"])
    assert [row["id"] for row in mine["orders"]] == [order["id"]]
    assert mine["orders"][0]["items"][0]["beat_title"] == "Metro 🎹's beat"
    assert [row["license_number"] for row in mine["licenses_bought"]] == [license_["license_number"]]
    reports = [(row["beat_id"], row["details"]) for row in mine["reports_filed"]]
    assert reports == [(beat_id, "Sounds like mine 🎶")]
    assert mine["beats"] == [] and mine["strikes"] == [] and mine["licenses_sold"] == []

    theirs = export(client, maker)
    assert [beat["id"] for beat in theirs["beats"]] == [beat_id]
    assert [(c["name"], c["linked_to_you"]) for c in theirs["beats"][0]["credits"]] == [
        ("Metro 🎹", True), ("Partner Ünal", False)]
    assert [row["license_number"] for row in theirs["licenses_sold"]] == [license_["license_number"]]
    assert sum(row["sales"] for row in theirs["sales"]) == 1
    assert theirs["payouts"]["account"]["status"] != "not_connected"
    assert theirs["payouts"]["balance"]["pending"]["amount"] > 0
    assert [row["kind"] for row in theirs["payouts"]["ledger"]] == ["sale"]
    assert [strike["reason"] for strike in theirs["strikes"]] == ["Spam titles"]
    assert theirs["reports_filed"] == []
    assert {tier["name"] for tier in theirs["license_tiers"]} >= {"Basic lease"}
    # Who reported the beat, and who bought it, are the other people's business.
    text = json.dumps(theirs, ensure_ascii=False)
    assert buyer_email not in text and "Zoë" not in text and "Sounds like mine" not in text

    for document in (mine, theirs):
        text = json.dumps(document)
        assert "argon2" not in text and "token_hash" not in text and "password" not in text


def test_a_credit_on_someone_elses_beat_is_in_the_collaborators_export(
        client, beatmaker, make_user, headers_for, credit):
    maker_id, maker, beat_id, _ = beatmaker("Metro")
    partner_id = make_user(name="Partner")
    credit(maker, beat_id, [("Metro", maker_id, "producer", 7000),
                            ("Partner P.", partner_id, "co_producer", 3000)])
    received = export(client, headers_for(partner_id))["credits_received"]
    assert [(row["beat_id"], row["name"], row["role"], row["profit_share_bps"]) for row in received] == [
        (beat_id, "Partner P.", "co_producer", 3000)]


def test_the_export_needs_a_sign_in(client):
    refused = client.get("/api/v1/me/export")
    assert refused.status_code == 401 and refused.json["error"]["code"]
