"""Rules that only show at the edges: versions of a sold beat, concurrent fulfilment of one
sale, tier edits against existing offers, odd templates."""

from __future__ import annotations

import threading

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.licensing import issuing
from marketplace.licensing.models import License, LicenseTier
from tests.conftest import mails_since, postgres_only


def test_a_version_finished_after_the_exclusive_sale_leaves_the_store_too(app, client, seller, buyer,
                                                                          upload_beat, offer_all, sell, tiers_of):
    _seller, headers = seller
    beat_id = upload_beat(headers)
    version_id = upload_beat(headers, title="Night Drive (slowed)", version_of=beat_id)
    with app.app_context():  # as if its render were still running when the exclusive sold
        db.session.get(Beat, version_id).status = "processing"
        db.session.commit()
    sell(beat_id, offer_all(headers, beat_id)["Exclusive rights"]["id"], buyer[0], price=49999)
    with app.app_context():
        from marketplace.catalog.tasks import render_preview_job

        render_preview_job(version_id)
    assert client.get(f"/api/v1/beats/{version_id}", headers=headers).json["status"] == "sold_exclusive"
    exclusive = tiers_of(headers)["Exclusive rights"]["id"]
    offered = client.put(f"/api/v1/beats/{version_id}/offers", headers=headers,
                         json=[{"tier_id": exclusive, "price": {"amount": 100, "currency": "usd"}}])
    assert offered.status_code == 409
    # Nor can a new version of the sold beat be made.
    other = upload_beat(headers, title="Another")
    refused = client.patch(f"/api/v1/beats/{other}", headers=headers, json={"version_of": beat_id})
    assert refused.status_code == 422 and "version_of" in refused.json["error"]["details"]


@postgres_only("concurrent transactions and row locks")
@pytest.mark.parametrize("tier_name", ["Basic lease", "Exclusive rights"])
def test_one_sale_fulfilled_twice_at_once_gives_one_license(app, seller, buyer, upload_beat, offer_all, tier_name):
    _seller, headers = seller
    beat_id = upload_beat(headers)
    tier = offer_all(headers, beat_id)[tier_name]["id"]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def fulfil():
        with app.app_context():
            barrier.wait()
            license_ = issuing.issue_license(issuing.Sale(
                reference="order-9-line-1", beat_id=beat_id, tier_id=tier, buyer=accounts.get_user(buyer[0]),
                price_amount=2999, currency="usd"))
            db.session.commit()
            results.append(license_.id)

    threads = [threading.Thread(target=fulfil) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and results[0] == results[1]  # the webhook and the success page agree
    with app.app_context():
        assert db.session.query(License).count() == 1


def test_a_tier_cannot_change_into_something_its_offers_cannot_deliver(client, seller, upload_beat, offer_all,
                                                                        tiers_of):
    _seller, headers = seller
    lossy = upload_beat(headers, kind="mp3", stems=False)
    basic = offer_all(headers, lossy, names={"Basic lease"})["Basic lease"]
    for change in ({"deliverables": ["mp3", "wav"]}, {"deliverables": ["mp3", "stems"]}):
        refused = client.patch(f"/api/v1/license-tiers/{basic['id']}", headers=headers, json=change)
        assert refused.status_code == 422 and "deliverables" in refused.json["error"]["details"], refused.json
    assert tiers_of(headers)["Basic lease"]["deliverables"] == ["mp3"]


@pytest.mark.parametrize("template", ["{credit_line:x}", "{credit_line:>999999999}", "{credit_line!r}",
                                      "{credit_line.upper}", "{0}", "{}"])
def test_credit_line_templates_take_plain_fields_only(client, seller, tiers_of, template):
    _seller, headers = seller
    tier = tiers_of(headers)["Basic lease"]
    response = client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=headers,
                            json={"credit_line_template": template})
    assert response.status_code == 422, template


def test_content_id_cannot_be_null(client, seller, tiers_of):
    _seller, headers = seller
    tier = tiers_of(headers)["Basic lease"]
    assert client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=headers,
                        json={"content_id": None}).status_code == 422


@postgres_only("concurrent first visits need real concurrency")
def test_default_tiers_are_seeded_once_under_concurrent_first_visits(app, make_user):
    owner = make_user(Role.BEATMAKER)
    barrier = threading.Barrier(4)

    def first_visit():
        from marketplace.licensing.tiers import list_tiers

        with app.app_context():
            barrier.wait()
            list_tiers(accounts.get_user(owner))
            db.session.commit()

    threads = [threading.Thread(target=first_visit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        assert db.session.query(LicenseTier).filter_by(owner_id=owner).count() == 5


def test_lessees_are_told_of_an_exclusive_sale_once(app, seller, buyer, make_user, upload_beat, offer_all, sell):
    from marketplace.licensing.tasks import notify_exclusive_sold

    _seller, headers = seller
    beat_id = upload_beat(headers, title="Told Once")
    tiers = offer_all(headers, beat_id)
    lease_id = sell(beat_id, tiers["Basic lease"]["id"], make_user(Role.ARTIST, "Lessee"))
    sell(beat_id, tiers["Exclusive rights"]["id"], buyer[0], price=49999)
    def notices() -> int:
        return sum(message["Subject"] == 'Exclusive rights to "Told Once" were sold'
                   for message in mails_since(app, set()))

    assert notices() == 1
    with app.app_context():
        notify_exclusive_sold(lease_id, "2026-01-01T00:00:00+00:00")  # a retry, or a redelivery
    assert notices() == 1


def test_head_requests_do_not_count_as_plays(client, seller, upload_beat):
    _seller, headers = seller
    beat = client.get(f"/api/v1/beats/{upload_beat(headers)}").json
    assert client.head(beat["preview_url"]).status_code == 200
    assert client.get(f"/api/v1/beats/{beat['id']}").json["play_count"] == 0
