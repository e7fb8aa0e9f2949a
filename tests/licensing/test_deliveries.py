"""Delivered files end to end: what a buyer downloads (the master as uploaded, a clean
tagged MP3, a real WAV, the stems), through expiring signed links, to the buyer only;
and the public check of a license number."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from mutagen.id3 import ID3
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.audio import DEFAULT_TAG_PATH
from marketplace.db import db
from marketplace.licensing import issuing
from marketplace.licensing.models import DownloadLog, License
from marketplace.storage.service import make_link_token
from tests.media import tag_positions

LICENSE_NUMBER = re.compile(r"^LIC-(?:[0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ffprobe(path: Path) -> dict:
    described = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, check=True).stdout)
    return {"format": described["format"], "stream": described["streams"][0]}


@pytest.fixture(scope="module")
def stems_bytes(masters) -> bytes:
    """One stems ZIP, made once, so the delivered archive can be compared file for file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("drums.wav", date_time=(2026, 1, 2, 3, 4, 6)),
                         masters["short"].read_bytes())
    return buffer.getvalue()


def upload(client, headers, master: Path, stems: bytes | None = None, **fields) -> str:
    data = {"title": "Night Drive", "bpm": "140", "key": "F#m", **fields,
            "file": (io.BytesIO(master.read_bytes()), master.name)}
    if stems is not None:
        data["stems"] = (io.BytesIO(stems), "stems.zip")
    response = client.post("/api/v1/beats", data=data, headers=headers, content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    return response.json["id"]


def sell_tier(beat_id, tier_name, *, seller, buyer_id, offer_all, sell) -> str:
    tier = offer_all(seller[1], beat_id, names=[tier_name])[tier_name]
    return sell(beat_id, tier["id"], buyer_id, price=tier["default_price"]["amount"])


def downloads(client, license_id, headers):
    return client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers)


def links_by_kind(client, license_id, headers) -> dict[str, dict]:
    response = downloads(client, license_id, headers)
    assert response.status_code == 200, response.json
    return {link["kind"]: link for link in response.json}


@pytest.fixture
def trackout(client, seller, buyer, masters, stems_bytes, offer_all, sell):
    """A WAV master with stems and two credits, sold to the buyer under the Trackout lease."""
    seller_id, seller_headers = seller
    beat_id = upload(client, seller_headers, masters["wav"], stems_bytes)
    credits = client.put(f"/api/v1/beats/{beat_id}/credits", headers=seller_headers, json=[
        {"name": "Metro", "user_id": seller_id, "role": "producer", "profit_share_bps": 10000},
        {"name": "Wanda Writer", "role": "songwriter", "publishing_share_bps": 2500}])
    assert credits.status_code == 200, credits.json
    license_id = sell_tier(beat_id, "Trackout lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                           sell=sell)
    return SimpleNamespace(beat_id=beat_id, license_id=license_id)


@pytest.fixture
def basic(client, seller, buyer, masters, offer_all, sell):
    """A Basic lease (MP3 only) of a WAV master, sold to the buyer."""
    beat_id = upload(client, seller[1], masters["wav"])
    return SimpleNamespace(beat_id=beat_id, license_id=sell_tier(beat_id, "Basic lease", seller=seller,
                                                                 buyer_id=buyer[0], offer_all=offer_all,
                                                                 sell=sell))


# -- what is delivered ----------------------------------------------------------------------

def test_trackout_delivers_master_stems_and_mp3_matching_their_checksums(client, buyer, trackout, masters,
                                                                         stems_bytes):
    _buyer_id, headers = buyer
    document = client.get(f"/api/v1/licenses/{trackout.license_id}", headers=headers).json
    number = document["license_number"]
    assert {f["kind"]: f["ready"] for f in document["files"]} == {"mp3": True, "wav": True, "stems": True}
    checksums = {f["kind"]: f["sha256"] for f in document["files"]}
    sizes = {f["kind"]: f["size"] for f in document["files"]}

    links = links_by_kind(client, trackout.license_id, headers)
    assert set(links) == {"mp3", "wav", "stems"}
    assert {kind: link["filename"] for kind, link in links.items()} == {
        "mp3": f"Night Drive ({number}).mp3", "wav": f"Night Drive ({number}).wav",
        "stems": f"Night Drive ({number}).zip"}
    content_types = {"mp3": "audio/mpeg", "wav": "audio/wav", "stems": "application/zip"}
    fetched = {}
    for kind, link in links.items():
        assert link["ready"] is True and link["url"].startswith("/files/") and link["expires_at"]
        response = client.get(link["url"])  # no credentials: the signature is the permission
        assert response.status_code == 200, (kind, response.data[:200])
        assert response.mimetype == content_types[kind]
        assert "attachment" in response.headers["Content-Disposition"]
        assert link["filename"] in response.headers["Content-Disposition"]
        assert "no-store" in response.headers["Cache-Control"]
        assert sha256(response.data) == checksums[kind] and len(response.data) == sizes[kind]
        fetched[kind] = response.data
    assert fetched["wav"] == masters["wav"].read_bytes()  # the master, bit for bit
    # The platform's own ZIP of the checked entries: the same files, bit for bit.
    with zipfile.ZipFile(io.BytesIO(fetched["stems"])) as delivered, \
            zipfile.ZipFile(io.BytesIO(stems_bytes)) as sent:
        assert delivered.namelist() == sent.namelist() == ["drums.wav"]
        assert delivered.read("drums.wav") == sent.read("drums.wav")
    assert fetched["mp3"][:3] == b"ID3"


def test_delivered_mp3_is_a_clean_320k_mp3_tagged_with_the_license(client, buyer, trackout, tmp_path):
    _buyer_id, headers = buyer
    document = client.get(f"/api/v1/licenses/{trackout.license_id}", headers=headers).json
    link = links_by_kind(client, trackout.license_id, headers)["mp3"]
    mp3 = tmp_path / "delivered.mp3"
    mp3.write_bytes(client.get(link["url"]).data)

    probed = ffprobe(mp3)
    assert probed["format"]["format_name"] == "mp3"
    assert probed["stream"]["codec_name"] == "mp3" and probed["stream"]["sample_rate"] == "44100"
    assert 310_000 <= int(probed["stream"]["bit_rate"]) <= 330_000
    assert 19.8 <= float(probed["format"]["duration"]) <= 20.2

    # Bought audio carries no producer tag; the public preview of the same beat does.
    assert tag_positions(mp3, DEFAULT_TAG_PATH, threshold=0.4) == []
    preview = tmp_path / "preview.mp3"
    beat = client.get(f"/api/v1/beats/{trackout.beat_id}").json
    preview.write_bytes(client.get(beat["preview_url"]).data)
    assert tag_positions(preview, DEFAULT_TAG_PATH, threshold=0.4) != []

    tags = ID3(mp3)
    assert tags.version == (2, 4, 0)
    assert tags["TIT2"].text == ["Night Drive"]
    assert tags["TPE1"].text == ["Metro"]
    people = {name: role for role, name in tags["TIPL"].people}
    assert set(people) == {"Metro", "Wanda Writer"}
    assert "produc" in people["Metro"].lower() and "writ" in people["Wanda Writer"].lower()
    assert tags["TCOM"].text == ["Wanda Writer"]
    assert tags["TXXX:LICENSE_NUMBER"].text == [document["license_number"]]
    assert document["terms"]["credit_line"] == "Prod. by Metro"
    assert tags["TXXX:CREDIT_LINE"].text == ["Prod. by Metro"]


def test_flac_master_under_premium_delivers_a_real_wav(client, seller, buyer, masters, offer_all, sell, tmp_path):
    _buyer_id, headers = buyer
    beat_id = upload(client, seller[1], masters["flac"])
    license_id = sell_tier(beat_id, "Premium lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                           sell=sell)
    document = client.get(f"/api/v1/licenses/{license_id}", headers=headers).json
    links = links_by_kind(client, license_id, headers)
    assert set(links) == {"mp3", "wav"}
    assert links["wav"]["filename"] == f"Night Drive ({document['license_number']}).wav"
    data = client.get(links["wav"]["url"]).data
    assert sha256(data) == next(f["sha256"] for f in document["files"] if f["kind"] == "wav")
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    wav = tmp_path / "delivered.wav"
    wav.write_bytes(data)
    probed, master = ffprobe(wav), ffprobe(masters["flac"])
    assert probed["format"]["format_name"] == "wav" and probed["stream"]["codec_name"].startswith("pcm_")
    assert probed["stream"]["sample_rate"] == master["stream"]["sample_rate"]
    assert abs(float(probed["format"]["duration"]) - float(master["format"]["duration"])) <= 0.1


# -- links ------------------------------------------------------------------------------------

def test_a_tampered_link_is_not_found(client, buyer, basic):
    url = links_by_kind(client, basic.license_id, buyer[1])["mp3"]["url"]
    assert client.get(url).status_code == 200
    token = url.removeprefix("/files/")
    payload, signature = token.rsplit(".", 1)
    swap = {"A": "B"}
    for tampered in (f"{payload[:5]}{swap.get(payload[5], 'A')}{payload[6:]}.{signature}",
                     f"{payload}.{swap.get(signature[0], 'A')}{signature[1:]}"):
        assert tampered != token
        response = client.get(f"/files/{tampered}")
        assert response.status_code == 404, tampered
        assert response.json["error"]["code"] == "file_not_found"


def test_an_expired_link_is_gone(app, client, buyer, basic, license_row):
    key = next(f.key for f in license_row(basic.license_id).files if f.kind == "mp3")
    secret = app.config["SECRET_KEY"]
    expired = make_link_token(secret, key, -1, "beat.mp3", "audio/mpeg")
    response = client.get(f"/files/{expired}")
    assert response.status_code == 410 and response.json["error"]["code"] == "link_expired"
    # The same link with time left works: it is the expiry that refused it.
    assert client.get(f"/files/{make_link_token(secret, key, 60, 'beat.mp3', 'audio/mpeg')}").status_code == 200


def test_downloads_can_be_asked_for_again_and_each_call_is_logged(app, client, buyer, trackout, monkeypatch):
    buyer_id, headers = buyer
    first = links_by_kind(client, trackout.license_id, headers)
    ttl = app.config["SIGNED_URL_TTL_SECONDS"]
    # Later, past the first links' expiry: they are refused, and new ones are handed out.
    later = time.time() + ttl + 5
    monkeypatch.setattr("marketplace.storage.service.time", SimpleNamespace(time=lambda: later))
    assert client.get(first["mp3"]["url"]).status_code == 410
    second = links_by_kind(client, trackout.license_id, headers)
    assert set(second) == set(first) == {"mp3", "wav", "stems"}
    for kind, link in second.items():
        assert link["url"] != first[kind]["url"]
        assert link["filename"] == first[kind]["filename"]
        assert client.get(link["url"]).status_code == 200, kind

    with app.app_context():
        logged = db.session.execute(select(DownloadLog.kind, DownloadLog.user_id, DownloadLog.client_address)
                                    .where(DownloadLog.license_id == trackout.license_id)).all()
    assert sorted(kind for kind, _user, _address in logged) == ["mp3", "mp3", "stems", "stems", "wav", "wav"]
    assert {(user, address) for _kind, user, address in logged} == {(buyer_id, "127.0.0.1")}


# -- who may see a license -----------------------------------------------------------------------

def test_someone_elses_license_is_not_found(app, client, basic, make_user, headers_for):
    other = headers_for(make_user(Role.ARTIST, "Other Artist"))
    for path in ("", "/downloads", "/contract.pdf"):
        response = client.get(f"/api/v1/licenses/{basic.license_id}{path}", headers=other)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "license_not_found"
    assert client.get("/api/v1/licenses", headers=other).json == []


def test_an_admin_sees_the_license_but_gets_no_download_links(app, client, basic, make_user, headers_for):
    admin = headers_for(make_user(Role.ADMIN, "Admin"))
    seen = client.get(f"/api/v1/licenses/{basic.license_id}", headers=admin)
    assert seen.status_code == 200 and seen.json["licensee"] == "Ann Artist"
    refused = downloads(client, basic.license_id, admin)
    assert refused.status_code == 404 and refused.json["error"]["code"] == "license_not_found"
    with app.app_context():
        assert db.session.scalar(select(DownloadLog.id)) is None


def test_a_revoked_license_downloads_nothing(app, client, buyer, basic):
    _buyer_id, headers = buyer
    with app.app_context():
        issuing.revoke_license(db.session.get(License, basic.license_id), "refund")
        db.session.commit()
    refused = downloads(client, basic.license_id, headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "license_revoked"
    document = client.get(f"/api/v1/licenses/{basic.license_id}", headers=headers).json
    assert document["status"] == "revoked" and document["revoked_at"] is not None
    assert client.get(f"/api/v1/licenses/verify/{document['license_number']}").json["status"] == "revoked"
    with app.app_context():
        assert db.session.scalar(select(DownloadLog.id)) is None


@pytest.mark.parametrize("change", ["revoke", "freeze"])
def test_a_link_handed_out_before_a_revocation_or_a_dispute_stops_working_at_once(
        app, client, buyer, basic, change):
    _buyer_id, headers = buyer
    links = links_by_kind(client, basic.license_id, headers)
    url = links["mp3"]["url"]
    assert client.get(url).status_code == 200
    with app.app_context():
        license_ = db.session.get(License, basic.license_id)
        if change == "revoke":
            issuing.revoke_license(license_, "refund")
        else:
            issuing.freeze_license(license_)
        db.session.commit()
    refused = client.get(url)  # the same link, well within its expiry
    expected = "license_revoked" if change == "revoke" else "license_frozen"
    assert refused.status_code == 403 and refused.json["error"]["code"] == expected
    assert refused.data[:3] != b"ID3"
    if change == "freeze":
        with app.app_context():
            issuing.unfreeze_license(db.session.get(License, basic.license_id))
            db.session.commit()
        assert client.get(url).status_code == 200  # a dispute won: the link works again


# -- public verification -------------------------------------------------------------------------

def test_anyone_can_verify_a_license_number_and_learn_nothing_private(app, client, buyer, seller, basic):
    buyer_id, headers = buyer
    document = client.get(f"/api/v1/licenses/{basic.license_id}", headers=headers).json
    number = document["license_number"]
    response = client.get(f"/api/v1/licenses/verify/{number}")
    assert response.status_code == 200, response.json
    answer = response.json
    assert set(answer) == {"license_number", "beat_title", "beatmaker", "tier_name", "kind", "issued_at",
                           "status", "licensee", "certificate", "use", "commercial_use"}
    assert answer["use"] == "commercial" and answer["commercial_use"] is None
    assert answer["license_number"] == number and answer["beat_title"] == "Night Drive"
    assert answer["beatmaker"] == "Metro" and answer["tier_name"] == "Basic lease" and answer["kind"] == "lease"
    assert answer["status"] == "active" and answer["licensee"] == "Ann Artist"
    # The signed certificate states the beat and the price too (tests/licensing/test_certificates.py),
    # never an email or an account; the rest of the answer states neither.
    certificate = answer.pop("certificate")
    assert certificate["state"] == "signed"
    payload = certificate["token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = json.dumps(answer) + json.dumps(claims, ensure_ascii=False)
    for private in (basic.license_id, buyer_id, seller[0], "@"):
        assert private not in body, private
    for sold in (basic.beat_id, "2999", "29.99"):
        assert sold not in json.dumps(answer), sold
    answer["certificate"] = certificate

    assert client.get(f"/api/v1/licenses/verify/{number.lower()}").json == answer


@pytest.mark.parametrize("number", ["LIC-0000-0000-0000-0000", "LIC-7K3Q-M9XD-2HPA-WB4E", "nonsense"])
def test_an_unknown_license_number_is_not_found(client, basic, number):
    response = client.get(f"/api/v1/licenses/verify/{number}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "license_not_found"


def test_license_numbers_follow_no_pattern(client, buyer, seller, masters, offer_all, sell, basic):
    second = sell_tier(basic.beat_id, "Basic lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                       sell=sell)
    numbers = [client.get(f"/api/v1/licenses/{license_id}", headers=buyer[1]).json["license_number"]
               for license_id in (basic.license_id, second)]
    assert all(LICENSE_NUMBER.match(number) for number in numbers), numbers
    # 80 random bits each: two numbers sold one after the other agree in few places.
    differing = sum(a != b for a, b in zip(numbers[0], numbers[1], strict=True))
    assert differing >= 8, numbers

    generated = [issuing.new_license_number() for _ in range(50)]
    assert all(LICENSE_NUMBER.match(number) for number in generated)
    assert len(set(generated)) == 50
