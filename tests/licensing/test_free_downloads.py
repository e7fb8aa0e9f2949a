"""Free downloads: a beat's tagged preview under a free license for non-profit use, with its own
number, document, certificate and verification; one per account and beat, limited per account,
ended by the exclusive sale, never a sale itself."""

from __future__ import annotations

import hashlib
import json
import io
import threading

import jwt
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.licensing.models import FreeLicense, License
from marketplace.payouts.models import LedgerEntry
from marketplace.storage.service import storage
from tests.conftest import skip_unless_postgres

ENDED = "Free downloads ended when the exclusive rights were sold."


@pytest.fixture
def free_beat(client, seller, upload_beat, offer_all):
    """A published beat offered under every default tier, with free downloads switched on."""
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tiers = offer_all(headers, beat_id)
    switch_free_downloads(client, headers, beat_id, True)
    return {"beat_id": beat_id, "tiers": tiers}


def switch_free_downloads(client, headers, beat_id, on):
    response = client.patch(f"/api/v1/beats/{beat_id}", json={"free_download": on}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["free_download"] is on
    return response.json


def take(client, headers, beat_id):
    return client.post(f"/api/v1/beats/{beat_id}/free-download", headers=headers)


def stored_bytes(app, key):
    with app.app_context():
        stream = storage().open(key)
        try:
            return stream.read()
        finally:
            stream.close()


def beat_row(app, beat_id) -> Beat:
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        db.session.expunge(beat)
        return beat


def test_the_seller_switches_free_downloads_on_and_the_listing_says_so(client, seller, upload_beat,
                                                                        offer_all):
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    offer_all(headers, beat_id)
    assert client.get(f"/api/v1/beats/{beat_id}").json["free_download"] is False
    switch_free_downloads(client, headers, beat_id, True)
    assert client.get(f"/api/v1/beats/{beat_id}").json["free_download"] is True
    listed = client.get("/api/v1/beats").json
    assert [item["free_download"] for item in listed["items"] if item["id"] == beat_id] == [True]
    switch_free_downloads(client, headers, beat_id, False)
    assert client.get(f"/api/v1/beats/{beat_id}").json["free_download"] is False


def test_a_beat_without_free_downloads_refuses_in_words(client, seller, buyer, upload_beat):
    beat_id = upload_beat(seller[1])
    response = take(client, buyer[1], beat_id)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "free_download_not_offered"
    assert "does not offer this beat as a free download" in response.json["error"]["message"]


def test_signing_in_is_required(client, free_beat):
    assert take(client, {}, free_beat["beat_id"]).status_code == 401


def test_the_download_is_the_tagged_preview_never_the_master(app, client, buyer, free_beat, masters):
    response = take(client, buyer[1], free_beat["beat_id"])
    assert response.status_code == 200, response.json
    license_, download = response.json["license"], response.json["download"]
    assert license_["kind"] == "free" and license_["status"] == "active"
    assert license_["price"]["amount"] == 0
    assert license_["terms"]["use"] == "non_profit"
    assert license_["terms"]["commercial_use"] == "Any commercial release needs a paid license."
    served = client.get(download["url"])
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("audio/mpeg")
    beat = beat_row(app, free_beat["beat_id"])
    assert served.data == stored_bytes(app, beat.preview_key)
    assert served.data != stored_bytes(app, beat.master_key)
    assert served.data != masters["wav"].read_bytes()
    assert hashlib.sha256(served.data).hexdigest() == license_["files"][0]["sha256"]
    assert [f["kind"] for f in license_["files"]] == ["mp3"]


def test_downloading_again_answers_the_same_license(app, client, buyer, free_beat):
    first = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    again = take(client, buyer[1], free_beat["beat_id"])
    assert again.status_code == 200
    assert again.json["license"]["license_number"] == first["license_number"]
    assert again.json["license"]["id"] == first["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FreeLicense)) == 1


def test_the_free_license_is_verified_with_its_status_terms_and_signed_certificate(client, buyer, free_beat):
    license_ = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    answer = client.get(f"/api/v1/licenses/verify/{license_['license_number'].lower()}")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["kind"] == "free" and body["use"] == "non_profit" and body["status"] == "active"
    assert body["tier_name"] == "Free download (non-profit use)"
    assert body["commercial_use"] == "Any commercial release needs a paid license."
    assert body["licensee"] == "Ann Artist"
    certificate = body["certificate"]
    assert certificate["state"] == "signed"
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(certificate["token"])["kid"]
    claims = jwt.decode(certificate["token"], keys[kid].key, algorithms=["EdDSA"],
                        options={"verify_aud": False})
    assert claims["license_number"] == license_["license_number"]
    assert claims["kind"] == "free" and claims["price"]["amount"] == 0
    assert claims["terms"]["use"] == "non_profit"
    assert claims["beat"]["files"] == [{"kind": "mp3", "sha256": license_["files"][0]["sha256"],
                                        "size": license_["files"][0]["size"]}]


def test_the_free_license_is_in_the_library_with_its_document(client, buyer, free_beat):
    taken = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    library = client.get("/api/v1/licenses", headers=buyer[1]).json
    assert [(item["id"], item["kind"]) for item in library] == [(taken["id"], "free")]
    assert library[0]["contract_ready"] is True
    links = client.get(f"/api/v1/licenses/{taken['id']}/downloads", headers=buyer[1])
    assert links.status_code == 200 and links.json[0]["ready"] is True
    pdf = client.get(f"/api/v1/licenses/{taken['id']}/contract.pdf", headers=buyer[1])
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in pages)
    assert "FREE LICENSE FOR NON-PROFIT USE" in text
    assert taken["license_number"] in text
    assert "Any commercial release needs a paid license" in text
    assert "with the Producer's voice tag" in text
    assert "without the voice tag" not in text


def test_someone_else_cannot_see_or_download_a_free_license(client, buyer, new_account, free_beat):
    taken = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    other = new_account()
    assert client.get(f"/api/v1/licenses/{taken['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/licenses/{taken['id']}/downloads", headers=other).status_code == 404


@pytest.fixture
def new_account(make_user, headers_for):
    from marketplace.accounts.models import Role

    names = iter(f"Listener {n}" for n in range(100))

    def make():
        return headers_for(make_user(Role.ARTIST, next(names)))
    return make


def test_the_exclusive_sale_ends_free_downloads_and_earlier_ones_stay_valid(client, buyer, new_account,
                                                                            free_beat, sell):
    taken = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    exclusive_tier = next(t for t in free_beat["tiers"].values() if t["kind"] == "exclusive")
    exclusive_buyer = new_account()
    exclusive_buyer_id = client.get("/api/v1/me", headers=exclusive_buyer).json["id"]
    # The free license stands in no one's way: the exclusive is sold after it.
    sell(free_beat["beat_id"], exclusive_tier["id"], exclusive_buyer_id)

    refused = take(client, new_account(), free_beat["beat_id"])
    assert refused.status_code == 409
    assert refused.json["error"] == {**refused.json["error"], "code": "free_download_ended", "message": ENDED}
    verified = client.get(f"/api/v1/licenses/verify/{taken['license_number']}").json
    assert verified["status"] == "active" and verified["use"] == "non_profit"
    again = take(client, buyer[1], free_beat["beat_id"])
    assert again.status_code == 200 and again.json["license"]["id"] == taken["id"]


def test_a_beat_taken_down_gives_no_free_download(client, buyer, free_beat, make_user, headers_for):
    from marketplace.accounts.models import Role

    admin = headers_for(make_user(Role.ADMIN, "Admin"))
    down = client.post(f"/api/v1/admin/beats/{free_beat['beat_id']}/takedown",
                       json={"reason": "Copyright claim", "revoke_licenses": False}, headers=admin)
    assert down.status_code == 200, down.json
    refused = take(client, buyer[1], free_beat["beat_id"])
    assert refused.status_code == 410
    assert refused.json["error"]["code"] == "beat_taken_down"
    assert refused.json["error"]["message"] == "This beat was taken down: it cannot be downloaded."


def test_an_unknown_beat_is_not_found(client, buyer):
    response = take(client, buyer[1], "bt_missing")
    assert response.status_code == 404 and response.json["error"]["code"] == "beat_not_found"


def test_new_free_licenses_are_limited_per_account_and_say_when_to_try_again(
        app, client, seller, buyer, new_account, upload_beat, monkeypatch):
    monkeypatch.setitem(app.config, "FREE_DOWNLOAD_LIMIT_PER_ACCOUNT", "2 per hour")
    beats = [upload_beat(seller[1], title=f"Beat {n}") for n in range(3)]
    for beat_id in beats:
        switch_free_downloads(client, seller[1], beat_id, True)
    assert take(client, buyer[1], beats[0]).status_code == 200
    assert take(client, buyer[1], beats[1]).status_code == 200
    refused = take(client, buyer[1], beats[2])
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 0 < seconds <= 3600
    assert refused.json["error"]["details"]["retry_after_seconds"] == seconds
    assert "Try again in" in refused.json["error"]["message"]
    # Downloading one already taken is not a new license: it is never refused by the limit.
    assert take(client, buyer[1], beats[0]).status_code == 200
    # The limit is the account's own: another account downloads.
    assert take(client, new_account(), beats[2]).status_code == 200


def test_free_licenses_are_never_sales_in_the_ledger_or_the_sold_licenses(app, client, buyer, free_beat):
    assert take(client, buyer[1], free_beat["beat_id"]).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert db.session.scalar(select(func.count()).select_from(License)) == 0


def test_free_downloads_are_counted_per_beat_and_day_for_the_seller(client, seller, buyer, new_account,
                                                                    free_beat, make_user, headers_for):
    from marketplace.accounts.models import Role

    take(client, buyer[1], free_beat["beat_id"])
    take(client, buyer[1], free_beat["beat_id"])  # the same account again: counted once
    take(client, new_account(), free_beat["beat_id"])
    stats = client.get("/api/v1/me/free-downloads", headers=seller[1])
    assert stats.status_code == 200, stats.json
    assert [(row["beat_id"], row["free_downloads"]) for row in stats.json] == [(free_beat["beat_id"], 2)]
    assert len(stats.json[0]["day"]) == 10
    # The studio's statistics count them too, per day, beside the plays.
    charted = client.get("/api/v1/me/stats?interval=day", headers=seller[1]).json
    assert charted["totals"]["free_downloads"] == 2 and sum(charted["free_downloads"]) == 2
    assert charted["free_downloads"][-1] == 2 and len(charted["free_downloads"]) == len(charted["periods"])
    assert charted["totals"]["sales"] == 0, "a free license is no sale"
    other_seller = headers_for(make_user(Role.BEATMAKER, "Other"))
    assert client.get("/api/v1/me/free-downloads", headers=other_seller).json == []
    assert client.get("/api/v1/me/free-downloads", headers=buyer[1]).status_code == 403
    bad = client.get("/api/v1/me/free-downloads?days=0", headers=seller[1])
    assert bad.status_code == 422


def test_one_account_downloading_twice_at_once_gets_one_license(app, client, buyer, free_beat):
    skip_unless_postgres("concurrent first downloads race on row locks")
    barrier = threading.Barrier(4)
    answers = []

    def download():
        with app.test_client() as own_client:
            barrier.wait()
            answers.append(own_client.post(f"/api/v1/beats/{free_beat['beat_id']}/free-download",
                                           headers=buyer[1]))

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200] * 4
    assert len({answer.json["license"]["license_number"] for answer in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FreeLicense)) == 1


def test_the_free_download_is_documented_in_the_spec(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/beats/{beat_id}/free-download"]["post"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "404", "409", "410", "429"} <= set(operation["responses"])
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][schema]["properties"]) == {"license", "download"}
    stats = spec["paths"]["/api/v1/me/free-downloads"]["get"]
    assert [parameter["name"] for parameter in stats["parameters"]] == ["days"]
    verification = spec["components"]["schemas"]["Verification"]["properties"]
    assert {"use", "commercial_use"} <= set(verification)
    beat = spec["components"]["schemas"]["Beat"]["properties"]
    assert beat["free_download"]["type"] == "boolean"


def test_the_free_license_document_prints_every_script_and_renders(app, client, seller, make_user,
                                                                   headers_for, upload_beat, tmp_path):
    from marketplace.accounts.models import Role
    from tests.licensing.pdf_fonts import drawn_characters, extracted_text, invisible, render_png

    beat_id = upload_beat(seller[1], title="夜のドライブ 🌙")
    switch_free_downloads(client, seller[1], beat_id, True)
    listener = headers_for(make_user(Role.ARTIST, "ليلى Δήμητρα 민지"))
    taken = take(client, listener, beat_id).json["license"]
    pdf = client.get(f"/api/v1/licenses/{taken['id']}/contract.pdf", headers=listener).data
    text = extracted_text(pdf)
    assert "FREE LICENSE FOR NON-PROFIT USE" in text
    assert "PRICE. None: this license is free of charge." in text
    drawn, problems = drawn_characters(pdf)
    assert problems == []
    for name in ("夜のドライブ 🌙", "ليلى Δήμητρα 민지"):
        assert {ch for ch in name if not invisible(ch)} <= drawn, name
    pages = render_png(pdf, tmp_path, "free-license")
    assert pages
    print(f"free license document: {', '.join(map(str, pages))}")


def test_an_unverified_account_downloads_as_it_may_buy(client, free_beat, signed_in):
    # Checkout asks for no verified address (unverified accounts may buy): neither does this.
    headers = signed_in("new-listener@example.com")
    assert client.get("/api/v1/me", headers=headers).json["email_verified"] is False
    response = take(client, headers, free_beat["beat_id"])
    assert response.status_code == 200, response.json
    assert response.json["license"]["licensee"] == "Ann"


def test_the_seller_switch_refuses_what_is_not_a_yes_or_no(client, seller, upload_beat):
    beat_id = upload_beat(seller[1])
    response = client.patch(f"/api/v1/beats/{beat_id}", json={"free_download": "sometimes"},
                            headers=seller[1])
    assert response.status_code == 422
    assert "free_download" in response.json["error"]["details"]


def test_the_sweep_finishes_a_free_license_document_a_crash_left_unmade(app, client, buyer, free_beat):
    import datetime as dt

    from marketplace.licensing.tasks import sweep_licenses

    taken = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    with app.app_context():
        row = db.session.get(FreeLicense, taken["id"])
        row.contract_key, row.issued_at = None, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        db.session.commit()
    assert client.get(f"/api/v1/licenses/{taken['id']}", headers=buyer[1]).json["contract_ready"] is False
    with app.app_context():
        assert sweep_licenses() == 1
    assert client.get(f"/api/v1/licenses/{taken['id']}", headers=buyer[1]).json["contract_ready"] is True


def test_the_free_license_is_in_its_holders_data_export(client, buyer, free_beat):
    taken = take(client, buyer[1], free_beat["beat_id"]).json["license"]
    exported = client.get("/api/v1/me/export", headers=buyer[1])
    assert exported.status_code == 200
    document = json.loads(exported.data)
    assert [row["license_number"] for row in document["free_licenses"]] == [taken["license_number"]]
    assert document["licenses_bought"] == []
