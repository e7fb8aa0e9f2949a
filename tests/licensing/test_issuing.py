"""Issuing licenses: frozen terms, idempotence, and the exclusive rules."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import services as accounts
from marketplace.db import db
from marketplace.licensing import issuing
from marketplace.licensing.models import License
from tests.conftest import mail_text, mails_since, postgres_only


def test_a_lease_is_issued_with_frozen_terms(client, app, seller, buyer, upload_beat, offer_all, sell):
    _seller, seller_headers = seller
    buyer_id, buyer_headers = buyer
    beat_id = upload_beat(seller_headers)
    tiers = offer_all(seller_headers, beat_id)
    license_id = sell(beat_id, tiers["Basic lease"]["id"], buyer_id)
    body = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json
    assert body["status"] == "active" and body["kind"] == "lease"
    assert body["license_number"].startswith("LIC-") and body["licensee"] == "Ann Artist"
    assert body["terms"]["limits"]["distribution_copies"] == 2500
    assert body["terms"]["credit_line"] == "Prod. by Metro"
    assert body["credits"][0]["name"] == "Metro" and body["credits"][0]["role"] == "producer"
    assert body["beat"]["title"] == "Night Drive" and body["price"] == {"amount": 2999, "currency": "usd"}
    # Edits of the tier and the beat change future sales only.
    client.patch(f"/api/v1/license-tiers/{tiers['Basic lease']['id']}", headers=seller_headers,
                 json={"limits": {"distribution_copies": 10}, "name": "Cheap"})
    client.patch(f"/api/v1/beats/{beat_id}", headers=seller_headers, json={"title": "Renamed"})
    again = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json
    assert again["terms"] == body["terms"] and again["beat"] == body["beat"]
    assert [item["id"] for item in client.get("/api/v1/licenses", headers=buyer_headers).json] == [license_id]
    # Leases leave the beat on sale.
    assert client.get(f"/api/v1/beats/{beat_id}").json["status"] == "published"


def test_issuing_twice_for_one_sale_returns_the_same_license(seller, buyer, upload_beat, offer_all, sell, app):
    _seller, seller_headers = seller
    buyer_id, _headers = buyer
    beat_id = upload_beat(seller_headers)
    tier = offer_all(seller_headers, beat_id)["Basic lease"]["id"]
    first = sell(beat_id, tier, buyer_id, reference="order-1-line-1")
    second = sell(beat_id, tier, buyer_id, reference="order-1-line-1")
    assert first == second
    with app.app_context():
        assert db.session.query(License).count() == 1


def test_an_exclusive_takes_the_beat_and_its_versions_out_of_the_store(client, app, seller, buyer, make_user,
                                                                        headers_for, upload_beat, offer_all,
                                                                        sell):
    from marketplace.accounts.models import Role

    _seller, seller_headers = seller
    buyer_id, buyer_headers = buyer
    beat_id = upload_beat(seller_headers)
    version_id = upload_beat(seller_headers, title="Night Drive (slowed)", version_of=beat_id)
    tiers = offer_all(seller_headers, beat_id)
    offer_all(seller_headers, version_id, names={"Basic lease"})
    lessee_id = make_user(Role.ARTIST, "Early Lessee")
    lease_id = sell(beat_id, tiers["Basic lease"]["id"], lessee_id)
    exclusive_id = sell(beat_id, tiers["Exclusive rights"]["id"], buyer_id, price=49999)

    beat = client.get(f"/api/v1/beats/{beat_id}").json
    assert beat["status"] == "sold_exclusive" and beat["sold_exclusive_at"]
    assert beat["offers"] == [] and beat["price_from"] is None
    assert client.get(f"/api/v1/beats/{version_id}").json["status"] == "sold_exclusive"
    assert client.get("/api/v1/beats").json["items"] == []
    assert client.get(beat["preview_url"] or f"/api/v1/beats/{beat_id}/preview").status_code == 404
    # The earlier lease stays valid, and its holder was told.
    lessee_headers = headers_for(lessee_id)
    assert client.get(f"/api/v1/licenses/{lease_id}", headers=lessee_headers).json["status"] == "active"
    assert client.get(f"/api/v1/licenses/{lease_id}/downloads", headers=lessee_headers).status_code == 200
    mails = [mail_text(message) for message in mails_since(app, set())]
    assert any("Early Lessee" in mail and "stays valid" in mail for mail in mails)
    assert client.get(f"/api/v1/licenses/{exclusive_id}", headers=buyer_headers).json["kind"] == "exclusive"
    # A second exclusive is refused, and the owner cannot put it on sale again.
    with pytest.raises(issuing.ExclusiveUnavailable):
        sell(beat_id, tiers["Exclusive rights"]["id"], lessee_id, price=49999)
    again = client.put(f"/api/v1/beats/{beat_id}/offers", headers=seller_headers,
                       json=[{"tier_id": tiers["Exclusive rights"]["id"], "price": {"amount": 1, "currency": "usd"}}])
    assert again.status_code == 409 and again.json["error"]["code"] == "beat_sold_exclusive"


def test_the_database_refuses_a_second_exclusive_even_without_the_code(app, seller, buyer, upload_beat,
                                                                       offer_all, sell):
    _seller, seller_headers = seller
    buyer_id, _headers = buyer
    beat_id = upload_beat(seller_headers)
    tier = offer_all(seller_headers, beat_id)["Exclusive rights"]["id"]
    first = sell(beat_id, tier, buyer_id, price=49999)
    with app.app_context():
        row = {column.name: getattr(db.session.get(License, first), column.name)
               for column in License.__table__.columns}
        row.update(id="lic_forged", license_number="LIC-F0RG-ED00-0000-0000", sale_reference="forged")
        with pytest.raises(IntegrityError):
            db.session.execute(insert(License).values(**row))
            db.session.flush()
        db.session.rollback()


@postgres_only("row locks and concurrent transactions")
def test_concurrent_exclusive_sales_issue_exactly_one(app, seller, make_user, upload_beat, offer_all):
    from marketplace.accounts.models import Role

    _seller, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    tier = offer_all(seller_headers, beat_id)["Exclusive rights"]["id"]
    buyers = [make_user(Role.ARTIST, f"Buyer {i}") for i in range(6)]
    barrier = threading.Barrier(len(buyers))
    outcomes: list[str] = []

    def buy(index: int, buyer_id: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                issuing.issue_license(issuing.Sale(reference=f"race-{index}", beat_id=beat_id, tier_id=tier,
                                                   buyer=accounts.get_user(buyer_id), price_amount=49999,
                                                   currency="usd"))
                db.session.commit()
                outcomes.append("sold")
            except issuing.ExclusiveUnavailable:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=buy, args=(i, b)) for i, b in enumerate(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused"] * 5 + ["sold"]
    with app.app_context():
        assert db.session.query(License).filter_by(beat_id=beat_id, kind="exclusive").count() == 1


def test_license_numbers_are_unguessable():
    numbers = {issuing.new_license_number() for _ in range(200)}
    assert len(numbers) == 200


def test_the_sweep_finishes_contracts_and_files_a_crash_left_undone(app, client, seller, buyer, upload_beat,
                                                                     offer_all, sell):
    import datetime as dt

    from marketplace.licensing.models import LicenseFile
    from marketplace.licensing.tasks import sweep_licenses

    _seller, seller_headers = seller
    buyer_id, buyer_headers = buyer
    beat_id = upload_beat(seller_headers)
    license_id = sell(beat_id, offer_all(seller_headers, beat_id)["Premium lease"]["id"], buyer_id)
    with app.app_context():
        license_ = db.session.get(License, license_id)
        license_.contract_key = None
        license_.issued_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        db.session.query(LicenseFile).filter_by(license_id=license_id).update({"key": None, "sha256": None})
        db.session.commit()
    assert client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["contract_ready"] is False
    with app.app_context():
        assert sweep_licenses() == 1
    body = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json
    assert body["contract_ready"] is True and all(f["ready"] and f["sha256"] for f in body["files"])
