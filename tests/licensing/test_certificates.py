"""Licenses that prove themselves: each license's certificate is a JWT signed with the
platform's Ed25519 key, checked here with PyJWT and the published JWK Set alone (none of the
store's code), pending until the delivered files are built, still valid after a key rotation,
and answered with the license's current status by the public verify call. The contract
carries the verification address as a QR code, read back from the printed page."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
import subprocess
import threading
from pathlib import Path

import jwt
import pytest
import zxingcpp
from joserfc.jwk import OKPKey
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.jobs import queue
from marketplace.licensing import keys
from marketplace.licensing.models import License, SigningKey
from marketplace.licensing.tasks import build_files, sweep_licenses
from tests.checkout.conftest import (  # noqa: F401
    admin_headers,
    checkout,
    new_buyer,
    order_of,
    payments,
    session_of,
    shop,
    wait_for,
)
from tests.conftest import make_test_app, postgres_only

JWKS = "/.well-known/jwks.json"
BASE = "http://127.0.0.1:5000"  # the development address mailed links and certificates use


def verify(client, number):
    response = client.get(f"/api/v1/licenses/verify/{number}")
    assert response.status_code == 200, response.json
    return response.json


def published_keys(client) -> jwt.PyJWKSet:
    response = client.get(JWKS)
    assert response.status_code == 200, response.json
    return jwt.PyJWKSet.from_dict(response.json)


def check_offline(token: str, jwks: jwt.PyJWKSet) -> dict:
    """What the README tells anyone to do: PyJWT, the published keys, nothing of the store's code."""
    header = jwt.get_unverified_header(token)
    return jwt.decode(token, jwks[header["kid"]], algorithms=["EdDSA"])


def license_document(client, license_id, headers):
    response = client.get(f"/api/v1/licenses/{license_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def trackout(client, seller, buyer, upload_beat, offer_all, sell):
    """A Trackout lease (MP3, WAV and stems) of a beat with two credits, sold to the buyer."""
    seller_id, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    credits = client.put(f"/api/v1/beats/{beat_id}/credits", headers=seller_headers, json=[
        {"name": "Metro", "user_id": seller_id, "role": "producer", "profit_share_bps": 10000},
        {"name": "Wanda Writer", "role": "songwriter", "publishing_share_bps": 2500}])
    assert credits.status_code == 200, credits.json
    tier = offer_all(seller_headers, beat_id, names=["Trackout lease"])["Trackout lease"]
    license_id = sell(beat_id, tier["id"], buyer[0], price=tier["default_price"]["amount"])
    document = license_document(client, license_id, buyer[1])
    return {"beat_id": beat_id, "license_id": license_id, "document": document,
            "number": document["license_number"], "price": tier["default_price"]}


@pytest.fixture
def failing_runner(app, monkeypatch):
    """Jobs run after each commit as in production, a job failing every retry is kept for admins."""
    runner = queue.InProcessRunner(app, threads=0, max_retries=0, backoff_seconds=0)
    monkeypatch.setitem(app.extensions, "job_runner", runner)
    return runner


def test_a_certificate_verifies_with_the_published_keys_and_states_the_license(app, client, buyer, trackout):
    answer = verify(client, trackout["number"])
    certificate = answer["certificate"]
    assert certificate["state"] == "signed" and certificate["keys_url"] == f"{BASE}{JWKS}"
    token = certificate["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == certificate["key_id"]
    published = client.get(JWKS).json["keys"]
    [key] = [key for key in published if key["kid"] == header["kid"]]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key["status"] == "active"
    assert "d" not in key  # the private part never leaves the keys folder

    claims = check_offline(token, published_keys(client))
    document = trackout["document"]
    assert claims["sub"] == claims["license_number"] == trackout["number"]
    assert claims["iss"] == BASE
    assert claims["status_url"] == f"{BASE}/api/v1/licenses/verify/{trackout['number']}"
    assert claims["verify_url"] == f"{BASE}/licenses/verify/{trackout['number']}"
    assert claims["licensee"] == "Ann Artist" and claims["kind"] == "lease"
    assert claims["tier"] == "Trackout lease" and claims["terms"] == document["terms"]
    assert claims["term"] == {"years": document["terms"]["term_years"], "perpetual": False,
                              "ends_on": claims["term"]["ends_on"]}
    assert claims["issued_at"][:10] == document["issued_at"][:10]
    years = document["terms"]["term_years"]
    assert int(claims["term"]["ends_on"][:4]) - int(claims["issued_at"][:4]) == years
    amount = trackout["price"]["amount"]
    assert claims["price"] == {"amount": amount, "currency": "usd",
                               "formatted": f"USD {amount // 100:,}.{amount % 100:02d}"}
    with app.app_context():
        beat = db.session.get(Beat, trackout["beat_id"])
        assert claims["beat"]["id"] == beat.id and claims["beat"]["title"] == "Night Drive"
        assert claims["beat"]["duration_ms"] == beat.duration_ms > 0
    delivered = {file["kind"]: file["sha256"] for file in claims["beat"]["files"]}
    assert delivered == {file["kind"]: file["sha256"] for file in document["files"]}
    assert set(delivered) == {"mp3", "wav", "stems"} and all(delivered.values())
    # The checksums are those of the bytes the buyer downloads.
    links = client.get(f"/api/v1/licenses/{trackout['license_id']}/downloads", headers=buyer[1]).json
    for link in links:
        with client.get(link["url"]) as download:
            assert hashlib.sha256(download.data).hexdigest() == delivered[link["kind"]]
    assert [(c["name"], c["role"], c["role_label"]) for c in claims["credits"]] == [
        ("Metro", "producer", "Produced by"), ("Wanda Writer", "songwriter", "Written by")]

    # No email, no account: people appear by the names the store shows.
    text = json.dumps(claims, ensure_ascii=False)
    with app.app_context():
        license_ = db.session.get(License, trackout["license_id"])
        private = [license_.buyer_id, license_.seller_id, "@", "user_id"]
    for value in private:
        assert value not in text, value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_tampered_certificate_does_not_verify(client, trackout):
    token = verify(client, trackout["number"])["certificate"]["token"]
    jwks = published_keys(client)
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))

    changed = {**claims, "licensee": "Mallory", "kind": "exclusive"}
    forged = ".".join([header, _b64(json.dumps(changed).encode()), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        check_offline(forged, jwks)

    flipped = bytearray(_unb64(signature))
    flipped[0] ^= 1
    with pytest.raises(jwt.InvalidSignatureError):
        check_offline(".".join([header, payload, _b64(bytes(flipped))]), jwks)

    # Signed by a key of someone else's, under the platform's key id: refused too.
    intruder = OKPKey.generate_key("Ed25519")
    impostor = jwt.encode(changed, intruder.as_pem(private=True), algorithm="EdDSA",
                          headers={"kid": jwt.get_unverified_header(token)["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        check_offline(impostor, jwks)
    assert check_offline(token, jwks)["licensee"] == "Ann Artist"  # the real one still does


def test_the_certificate_is_pending_until_the_files_are_built(app, client, failing_runner, seller, buyer,
                                                              upload_beat, offer_all, sell):
    beat_id = upload_beat(seller[1])
    tier_id = offer_all(seller[1], beat_id)["Basic lease"]["id"]
    with app.app_context():  # the master cannot be read: the files cannot be built
        beat = db.session.get(Beat, beat_id)
        master_key, beat.master_key = beat.master_key, "masters/missing.wav"
        db.session.commit()
    license_id = sell(beat_id, tier_id, buyer[0])
    number = license_document(client, license_id, buyer[1])["license_number"]
    answer = verify(client, number)
    assert answer["status"] == "active"
    assert answer["certificate"]["state"] == "pending" and answer["certificate"]["token"] is None
    assert "signed when the licensed files are built" in answer["certificate"]["message"]

    with app.app_context():  # the master is back; the delivery runs again (an admin's retry)
        db.session.get(Beat, beat_id).master_key = master_key
        db.session.commit()
        build_files(license_id)
    signed = verify(client, number)["certificate"]
    assert signed["state"] == "signed"
    claims = check_offline(signed["token"], published_keys(client))
    assert claims["beat"]["files"][0]["sha256"] == license_document(client, license_id, buyer[1])["files"][0][
        "sha256"]


def test_a_license_sold_before_certificates_gets_one_from_the_sweep_and_keeps_it(app, client, trackout):
    import datetime as dt

    with app.app_context():
        license_ = db.session.get(License, trackout["license_id"])
        license_.certificate = license_.certificate_kid = None
        license_.issued_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        db.session.commit()
    assert verify(client, trackout["number"])["certificate"]["state"] == "pending"
    with app.app_context():
        assert sweep_licenses() == 1
    token = verify(client, trackout["number"])["certificate"]["token"]
    assert check_offline(token, published_keys(client))["license_number"] == trackout["number"]
    with app.app_context():
        build_files(trackout["license_id"])  # built and signed already: a run again changes nothing
        assert sweep_licenses() == 0
    assert verify(client, trackout["number"])["certificate"]["token"] == token


def test_a_rotation_keeps_earlier_certificates_valid_and_signs_new_ones_with_the_new_key(
        app, client, seller, buyer, upload_beat, offer_all, sell):
    beat_id = upload_beat(seller[1])
    tier_id = offer_all(seller[1], beat_id)["Basic lease"]["id"]
    first = license_document(client, sell(beat_id, tier_id, buyer[0]), buyer[1])["license_number"]
    old = verify(client, first)["certificate"]

    rotated = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert f"retired {old['key_id']}" in rotated.output and "still verify" in rotated.output

    second = license_document(client, sell(beat_id, tier_id, buyer[0]), buyer[1])["license_number"]
    new = verify(client, second)["certificate"]
    assert new["key_id"] != old["key_id"] and f"signing with {new['key_id']}" in rotated.output
    assert jwt.get_unverified_header(new["token"])["kid"] == new["key_id"]
    assert verify(client, first)["certificate"] == old  # issued once, never signed again

    published = {key["kid"]: key for key in client.get(JWKS).json["keys"]}
    assert published[old["key_id"]]["status"] == "retired" and published[old["key_id"]]["retired_at"]
    assert published[new["key_id"]]["status"] == "active" and published[new["key_id"]]["retired_at"] is None
    assert list(published)[0] == new["key_id"]  # the active key first
    jwks = published_keys(client)
    assert check_offline(old["token"], jwks)["license_number"] == first
    assert check_offline(new["token"], jwks)["license_number"] == second

    listed = app.test_cli_runner().invoke(args=["keys", "list"])
    assert f"{new['key_id']}  active" in listed.output and f"{old['key_id']}  retired" in listed.output
    # The new private key sits in the keys folder, readable by its owner alone.
    key_file = Path(app.config["LICENSE_SIGNING_KEYS_DIR"]) / f"{new['key_id']}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_rotation_can_take_the_operators_own_key_once(app, client, tmp_path):
    made = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(tmp_path / "mine.pem")],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"openssl cannot make an Ed25519 key here: {made.stderr.decode()}")
    before = client.get(JWKS).json["keys"][0]["kid"]
    runner = app.test_cli_runner()
    rotated = runner.invoke(args=["keys", "rotate", "--key-file", str(tmp_path / "mine.pem")])
    assert rotated.exit_code == 0, rotated.output
    mine = keys.read_private_key(tmp_path / "mine.pem").thumbprint()
    assert [(key["kid"], key["status"]) for key in client.get(JWKS).json["keys"]] == [
        (mine, "active"), (before, "retired")]
    again = runner.invoke(args=["keys", "rotate", "--key-file", str(tmp_path / "mine.pem")])
    assert again.exit_code != 0 and "has signed certificates before" in again.output
    (tmp_path / "public.pem").write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=False))
    refused = runner.invoke(args=["keys", "rotate", "--key-file", str(tmp_path / "public.pem")])
    assert refused.exit_code != 0 and "not an Ed25519 private key" in refused.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 2


def test_a_rotation_that_cannot_save_its_key_changes_nothing(app, client, tmp_path, monkeypatch):
    before = client.get(JWKS).json["keys"]
    not_a_folder = tmp_path / "keys"
    not_a_folder.write_text("")
    monkeypatch.setitem(app.config, "LICENSE_SIGNING_KEYS_DIR", str(not_a_folder))
    refused = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert refused.exit_code != 0 and "cannot save the new key" in refused.output
    assert "nothing was changed" in refused.output
    monkeypatch.undo()
    assert client.get(JWKS).json["keys"] == before


def test_the_database_keeps_one_key_active(app):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        keys.active_signing_key()
        db.session.commit()
        other = OKPKey.generate_key("Ed25519")
        db.session.add(SigningKey(kid=other.thumbprint(), public_jwk=other.as_dict(private=False),
                                  state="active"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_development_makes_its_first_key_in_the_keys_folder_readable_by_its_owner_alone(database_factory,
                                                                                          tmp_path):
    from marketplace.migrate import upgrade

    folder = tmp_path / "instance" / "license-keys"
    app = make_test_app(database_factory(), LICENSE_SIGNING_KEYS_DIR=str(folder))
    with app.app_context():
        upgrade(db.engine)
    assert not folder.exists()  # nothing is made until something is signed or published
    [key] = app.test_client().get(JWKS).json["keys"]
    [key_file] = folder.iterdir()
    assert key_file.name == f"{key['kid']}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert app.test_client().get(JWKS).json["keys"] == [key]  # the same key from then on
    with app.app_context():
        db.engine.dispose()


def test_the_keys_are_public_to_any_page(client):
    response = client.get(JWKS)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Content-Type"].startswith("application/json")
    spec = client.get("/api/v1/openapi.json").json
    assert "/.well-known/jwks.json" in spec["paths"]
    verification = spec["components"]["schemas"]["Verification"]["properties"]
    assert "certificate" in verification and "status" in verification


@postgres_only("concurrent first signings on row locks and concurrent sessions")
def test_concurrent_first_callers_register_one_key(app, live_server):
    import requests

    barrier, answers, errors = threading.Barrier(6), [], []

    def fetch():
        barrier.wait()
        try:
            answers.append(requests.get(live_server + JWKS, timeout=30).json())
        except Exception as error:  # reported in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    kids = {tuple(key["kid"] for key in answer["keys"]) for answer in answers}
    assert len(kids) == 1 and len(next(iter(kids))) == 1, kids
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 1


# -- the contract's QR code -------------------------------------------------------------------------

def qr_codes_of(pdf: bytes, folder: Path) -> list[str]:
    """Every QR code printed on the contract, read from its pages rendered as images at 150 dpi."""
    (folder / "contract.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(folder / "contract.pdf"), str(folder / "page")],
                   check=True)
    found = []
    for page in sorted(folder.glob("page*.png")):
        found += [code.text for code in zxingcpp.read_barcodes(Image.open(page))
                  if code.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def test_the_contract_carries_the_verification_address_as_a_qr_code(client, buyer, trackout, tmp_path):
    response = client.get(f"/api/v1/licenses/{trackout['license_id']}/contract.pdf", headers=buyer[1])
    assert response.status_code == 200
    # The store's page of the license check, as the certificate states it: read with a phone.
    token = verify(client, trackout["number"])["certificate"]["token"]
    address = check_offline(token, published_keys(client))["verify_url"]
    assert address == f"{BASE}/licenses/verify/{trackout['number']}"
    assert qr_codes_of(response.data, tmp_path) == [address]
    pages = PdfReader(io.BytesIO(response.data)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert f"License number: {trackout['number']}" in text
    assert address in "".join(text.split())  # printed too, wrapped where the line ends
    page = client.get(address.removeprefix(BASE))
    assert page.status_code == 200 and page.mimetype == "text/html"


# -- the current status beside the certificate ---------------------------------------------------------

def test_a_refund_shows_as_revoked_beside_a_certificate_that_still_verifies(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers):  # noqa: F811
    _buyer_id, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert started.status_code == 201, started.json
    order_id = started.json["order_id"]
    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    number = order["licenses"][0]["license_number"]
    before = verify(client, number)
    assert before["status"] == "active" and before["certificate"]["state"] == "signed"

    assert client.post(f"/api/v1/orders/{order_id}/refund", headers=admin_headers).status_code == 202
    wait_for(lambda: order_of(order_id, headers)["status"] == "refunded")
    after = verify(client, number)
    assert after["status"] == "revoked"
    # The certificate still proves what was issued; whether it holds is the status beside it.
    assert after["certificate"] == before["certificate"]
    claims = check_offline(after["certificate"]["token"], published_keys(client))
    assert claims["status_url"].endswith(f"/api/v1/licenses/verify/{number}")


def test_the_readme_checks_a_certificate_offline_in_ten_lines(client, trackout, tmp_path):
    import re
    import sys

    from config import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Verifying a license", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in snippet.splitlines() if line.strip()]) <= 10
    token = verify(client, trackout["number"])["certificate"]["token"]
    (tmp_path / "certificate.jwt").write_text(token)
    (tmp_path / "jwks.json").write_text(client.get(JWKS).get_data(as_text=True))
    checked = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"{trackout['number']} Ann Artist Night Drive Trackout lease",
        f"is it still valid? ask {BASE}/api/v1/licenses/verify/{trackout['number']}"]

    header, payload, signature = token.split(".")
    claims = {**json.loads(_unb64(payload)), "licensee": "Mallory"}
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    (tmp_path / "certificate.jwt").write_text(forged)
    assert subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True,
                          timeout=60).returncode != 0
