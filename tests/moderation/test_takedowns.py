"""Takedowns and restores: out of the store at once (listing, previews, sales), licenses kept
unless the admin also revokes and refunds them; restore brings the beat back."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.moderation.models import BeatRestriction
from tests.checkout.conftest import wait_for
from tests.moderation.conftest import listed, mails_to


def buy(client, checkout, payments, session_of, order_of, headers, items):
    started = checkout(headers, items)
    assert started.status_code == 201, started.json
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], headers)
    assert order["status"] == "paid", order
    return order


def email_of(app, user_id):
    with app.app_context():
        return accounts.get_user(user_id).email


def test_a_takedown_stops_listing_previews_and_sales_at_once_and_keeps_licenses(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers, outbox):
    beat = shop["beat_id"]
    basic = shop["tiers"]["Basic"]["id"]
    _buyer, buyer_headers = new_buyer()
    order = buy(client, checkout, payments, session_of, order_of, buyer_headers, [(beat, basic)])
    license_id = order["licenses"][0]["id"]
    assert client.get(f"/api/v1/beats/{beat}/preview").status_code == 200

    down = client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": "Copyright claim by the label."},
                       headers=admin_headers)
    assert down.status_code == 200, down.json
    assert down.json["status"] == "taken_down" and down.json["licenses"] is None
    assert [(h["cause"], h["reason"]) for h in down.json["held_by"]] == [("takedown", "Copyright claim by the label.")]

    assert beat not in listed(client)
    assert client.get(f"/api/v1/beats/{beat}").status_code == 404
    assert client.get(f"/api/v1/beats/{beat}/preview").status_code == 404
    assert client.get(f"/api/v1/beats/{beat}/waveform").status_code == 404
    _other, other_headers = new_buyer("Other")
    refused = checkout(other_headers, [(beat, basic)])
    assert refused.status_code == 422 and "not for sale" in refused.json["error"]["message"]
    # The licence already sold stays valid and downloadable.
    assert client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["status"] == "active"
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=buyer_headers).status_code == 200
    # The owner still sees the beat, taken down, and cannot archive it to publish it again.
    assert client.get(f"/api/v1/beats/{beat}", headers=shop["headers"]).json["status"] == "taken_down"
    archive = client.delete(f"/api/v1/beats/{beat}", headers=shop["headers"])
    assert archive.status_code == 409 and archive.json["error"]["code"] == "beat_taken_down"
    assert mails_to(outbox, email_of(app, shop["seller_id"]), "was taken down")

    restored = client.post(f"/api/v1/admin/beats/{beat}/restore", json={"reason": "Claim withdrawn."},
                           headers=admin_headers)
    assert restored.status_code == 200 and restored.json["status"] == "published" and restored.json["held_by"] == []
    assert beat in listed(client)
    assert client.get(f"/api/v1/beats/{beat}/preview").status_code == 200
    assert checkout(other_headers, [(beat, basic)]).status_code == 201
    assert mails_to(outbox, email_of(app, shop["seller_id"]), "was restored")


def test_resolving_a_report_with_a_takedown_answers_every_open_report(
        app, client, owner, make_user, headers_for, make_beat, report, admin_headers, audit_entries, outbox):
    from marketplace.accounts.models import Role

    beat = make_beat(owner[0])
    first_reporter, second_reporter = make_user(Role.ARTIST), make_user(Role.ARTIST)
    first = report(beat, headers_for(first_reporter)).json["id"]
    second = report(beat, headers_for(second_reporter), "stolen_beat", "Mine.").json["id"]
    resolved = client.post(f"/api/v1/admin/reports/{first}/resolve",
                           json={"action": "takedown", "note": "The sample is not cleared."}, headers=admin_headers)
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["status"] == "taken_down" and resolved.json["beat"]["status"] == "taken_down"
    other = client.get(f"/api/v1/admin/reports/{second}", headers=admin_headers).json
    assert other["status"] == "taken_down" and other["resolution_note"] == "The sample is not cleared."
    assert beat not in listed(client)
    actions = [(e["action"], e["target_id"]) for e in audit_entries()]
    assert actions == [("beat.takedown", beat), ("report.takedown", first)]
    assert audit_entries(action="beat.takedown")[0]["after"]["closed_reports"] == sorted([first, second])
    for reporter in (first_reporter, second_reporter):
        assert mails_to(outbox, email_of(app, reporter), "Your report was acted on")


def test_dismissing_a_report_leaves_the_beat_alone(app, client, owner, artist, make_beat, report, admin_headers,
                                                   audit_entries, outbox):
    beat = make_beat(owner[0])
    report_id = report(beat, artist[1]).json["id"]
    dismissed = client.post(f"/api/v1/admin/reports/{report_id}/resolve",
                            json={"action": "dismiss", "note": "Original work."}, headers=admin_headers)
    assert dismissed.status_code == 200 and dismissed.json["status"] == "dismissed"
    assert dismissed.json["resolution_note"] == "Original work." and dismissed.json["resolved_at"]
    assert beat in listed(client)
    [entry] = audit_entries()
    assert (entry["action"], entry["target_id"], entry["reason"]) == ("report.dismiss", report_id, "Original work.")
    assert entry["before"]["status"] == "open" and entry["after"]["status"] == "dismissed"
    assert mails_to(outbox, email_of(app, artist[0]), "Your report was reviewed")


def test_takedown_and_restore_refuse_what_does_not_apply(client, owner, make_beat, admin_headers):
    beat, processing = make_beat(owner[0]), make_beat(owner[0], publish=False)
    url = f"/api/v1/admin/beats/{beat}"
    assert client.post(f"{url}/restore", json={}, headers=admin_headers).json["error"]["code"] == "not_taken_down"
    assert client.post(f"{url}/takedown", json={}, headers=admin_headers).status_code == 422  # a reason is needed
    assert client.post(f"{url}/takedown", json={"reason": "Spam."}, headers=admin_headers).status_code == 200
    twice = client.post(f"{url}/takedown", json={"reason": "Spam."}, headers=admin_headers)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_taken_down"
    not_in_store = client.post(f"/api/v1/admin/beats/{processing}/takedown", json={"reason": "Spam."},
                               headers=admin_headers)
    assert not_in_store.status_code == 409 and not_in_store.json["error"]["code"] == "beat_not_takedownable"
    missing = client.post("/api/v1/admin/beats/bt_nope/takedown", json={"reason": "x"}, headers=admin_headers)
    assert missing.status_code == 404


def test_an_archived_or_sold_beat_comes_back_as_it_was(app, client, owner, make_beat, admin_headers):
    from marketplace.catalog import lifecycle
    from marketplace.catalog import services as catalog
    from marketplace.catalog.lifecycle import BeatStatus

    archived, sold = make_beat(owner[0]), make_beat(owner[0])
    client.delete(f"/api/v1/beats/{archived}", headers=owner[1])
    with app.app_context():
        lifecycle.move(catalog.get_beat(sold), BeatStatus.SOLD_EXCLUSIVE)
        db.session.commit()
        sold_at = catalog.get_beat(sold).sold_exclusive_at
    for beat, status in ((archived, "archived"), (sold, "sold_exclusive")):
        client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": "Check."}, headers=admin_headers)
        restored = client.post(f"/api/v1/admin/beats/{beat}/restore", json={}, headers=admin_headers)
        assert restored.json["status"] == status
    with app.app_context():
        assert catalog.get_beat(sold).sold_exclusive_at == sold_at  # the sale keeps its date


def test_revoking_with_a_takedown_revokes_at_once_and_refunds_through_stripe(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers, audit_entries,
        outbox):
    beat = shop["beat_id"]
    buyer_id, buyer_headers = new_buyer()
    order = buy(client, checkout, payments, session_of, order_of, buyer_headers,
                [(beat, shop["tiers"]["Premium"]["id"])])
    license_id = order["licenses"][0]["id"]

    down = client.post(f"/api/v1/admin/beats/{beat}/takedown",
                       json={"reason": "Stolen beat, proven.", "revoke_licenses": True}, headers=admin_headers)
    assert down.status_code == 200, down.json
    assert down.json["licenses"] == {"revoked": [license_id], "refunds_requested": [order["id"]],
                                     "refund_by_hand": [], "lines_refunded": []}
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=buyer_headers).status_code == 403
    wait_for(lambda: order_of(order["id"], buyer_headers)["status"] == "refunded")
    assert len(payments.events(type="refund.created")) == 1
    actions = {(e["action"], e["target_id"], e["actor_kind"]) for e in audit_entries()}
    assert {("beat.takedown", beat, "admin"), ("license.revoke", license_id, "admin"),
            ("order.refund_request", order["id"], "admin")} <= actions
    assert mails_to(outbox, email_of(app, buyer_id), "was revoked")
    # Revoking again finds nothing left to revoke.
    again = client.post(f"/api/v1/admin/beats/{beat}/revoke-licenses", json={"reason": "Again."},
                        headers=admin_headers)
    assert again.json == {"revoked": [], "refunds_requested": [], "refund_by_hand": [], "lines_refunded": []}


def test_an_order_that_also_paid_for_other_beats_has_only_this_beats_line_refunded(
        app, client, payments, shop, upload_beat, offer_all, new_buyer, checkout, session_of, order_of,
        admin_headers, audit_entries):
    second = upload_beat(shop["headers"], title="Second")
    offer_all(shop["headers"], second)
    _buyer, buyer_headers = new_buyer()
    basic = shop["tiers"]["Basic"]["id"]
    order = buy(client, checkout, payments, session_of, order_of, buyer_headers,
                [(shop["beat_id"], basic), (second, basic)])
    line = next(item for item in order["items"] if item["beat_id"] == shop["beat_id"])
    revoked = client.post(f"/api/v1/admin/beats/{shop['beat_id']}/revoke-licenses", json={"reason": "Fraud."},
                          headers=admin_headers)
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["refunds_requested"] == [order["id"]] and revoked.json["refund_by_hand"] == []
    assert revoked.json["lines_refunded"] == [line["id"]]
    # Stripe refunds that line's price, and only it; the other license stands.
    wait_for(lambda: order_of(order["id"], buyer_headers)["refunded"]["amount"] == line["price"]["amount"])
    assert [event["data"]["object"]["amount"] for event in payments.events(type="refund.created")] == [
        line["price"]["amount"]]
    after = order_of(order["id"], buyer_headers)
    assert after["status"] == "paid"
    statuses = {lic["beat_id"]: lic["status"] for lic in after["licenses"]}
    assert statuses == {shop["beat_id"]: "revoked", second: "active"}
    assert {item["beat_id"]: item["status"] for item in after["items"]} == {shop["beat_id"]: "refunded",
                                                                          second: "licensed"}
    with app.app_context():
        assert db.session.scalar(select(License.revoke_reason).where(License.beat_id == shop["beat_id"])) == "moderation"
        assert db.session.scalar(select(BeatRestriction)) is None  # revoking alone takes nothing down
    [request] = audit_entries(action="order.refund_request")
    assert request["actor_kind"] == "admin" and request["after"]["item_id"] == line["id"]
