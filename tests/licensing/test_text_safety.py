"""Text people type that reaches contracts, mails and tags: single-line fields refuse what
would break out of a line (control characters, line and paragraph separators, direction
overrides and isolates) with a 422 that names the field; names keep what they need (joiners,
variation selectors, emoji, every script); and a value stored before these rules stays inside
its contract clause and out of mail headers."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.licensing.contracts import contract_values, render_contract_text
from marketplace.licensing.models import License
from marketplace.licensing.tasks import _parties
from tests.conftest import mail_text, register

CLAUSE_INJECTION = 'Ride".\n\n0. EXTRA TERMS. Licensee owes the Producer 50% of all income.'

# Each breaks a line, forges a header or reorders what a reader sees.
INJECTIONS = {
    "clause": CLAUSE_INJECTION,
    "crlf header": "Night\r\nBcc: everyone@example.com",
    "line feed": "Night\nDrive",
    "carriage return": "Night\rDrive",
    "tab": "Night\tDrive",
    "nul": "Night\x00Drive",
    "escape": "Night\x1b[31mDrive",
    "delete": "Night\x7fDrive",
    "next line (C1)": "Night\x85Drive",
    "C1 control": "Night\x9bDrive",
    "line separator": "Night\u2028Drive",
    "paragraph separator": "Night\u2029Drive",
    "LRE": "Night\u202aDrive",
    "RLE": "Night\u202bDrive",
    "PDF": "Night\u202cDrive",
    "LRO": "Night\u202dDrive",
    "RLO": "evil\u202egnp.exe",
    "LRI": "Night\u2066Drive",
    "RLI": "Night\u2067Drive",
    "FSI": "Night\u2068Drive",
    "PDI": "Night\u2069Drive",
}

# What real names need: joiners, variation selectors, emoji and every script.
NAMES_KEPT = [
    "DJ 🎧 Fan",
    "Family 👨\u200d👩\u200d👧\u200d👦",  # ZWJ sequence
    "رضا\u200cزاده",  # ZWNJ in Persian
    "क्\u200dष",  # ZWJ in Devanagari
    "Smile \u263a\ufe0f",  # emoji presentation selector
    "Text \u263a\ufe0e",  # text presentation selector
    "葛\U000e0100城",  # ideographic variation selector
    "Zoë Ødegård",
    "Ἀλέξανδρος",
    "Юлия Петрова",
    "김민준",
    "王小明",
    "山田太郎",
    "محمد العلي",
    "דוד כהן",
    "अनन्या शर्मा",
    "অর্পিতা দাস",
    "தமிழ் செல்வன்",
    "สมชาย ใจดี",
    "አበበ ቢቂላ",
    "👍🏽 Thumbs",  # skin tone modifier
    "🇯🇵 Flag",
]

CLAUSE_LINE = re.compile(r"^(\d+)\. [A-Z]", re.MULTILINE)


def _refused(response, field: str, words: str) -> None:
    assert response.status_code == 422, (field, response.status_code, response.json)
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    if "NUL characters" in str(error["details"]):  # the API refuses NUL in any text, before this rule
        return
    messages = error["details"]
    for part in field.split("."):
        messages = messages[part]
    text = " ".join(messages) if isinstance(messages, list) else str(messages)
    assert words in text and "single line" in text, text


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_single_line_fields_refuse_the_injection_corpus(client, seller, buyer, upload_beat, tiers_of, value):
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tier_id = next(iter(tiers_of(headers).values()))["id"]

    _refused(client.patch(f"/api/v1/beats/{beat_id}", json={"title": value}, headers=headers),
             "title", "The title")
    _refused(client.put(f"/api/v1/beats/{beat_id}/credits", headers=headers,
                        json=[{"name": value, "role": "producer"}]), "0.name", "The credit name")
    _refused(client.patch(f"/api/v1/license-tiers/{tier_id}", json={"name": value}, headers=headers),
             "name", "The tier name")
    _refused(client.patch(f"/api/v1/license-tiers/{tier_id}", json={"credit_line_template": value},
                          headers=headers), "credit_line_template", "The credit line template")
    _refused(client.post("/api/v1/coupons", headers=headers,
                         json={"code": value, "kind": "percent", "percent_off": 10}),
             "code", "The coupon code")
    _refused(client.post("/api/v1/checkout", headers=buyer[1],
                         json={"items": [{"beat_id": beat_id, "tier_id": tier_id}], "coupon_code": value}),
             "coupon_code", "The coupon code")
    _refused(register(client, email="new@example.com", display_name=value),
             "display_name", "The display name")
    # Nothing was changed by the refused requests.
    assert client.get(f"/api/v1/beats/{beat_id}").json["title"] == "Night Drive"


def test_the_beat_upload_form_refuses_a_title_with_a_new_clause(client, seller, masters):
    import io

    response = client.post("/api/v1/beats", headers=seller[1], content_type="multipart/form-data", data={
        "title": CLAUSE_INJECTION, "bpm": "140",
        "file": (io.BytesIO(masters["wav"].read_bytes()), "master.wav")})
    _refused(response, "title", "The title")


@pytest.mark.parametrize("name", NAMES_KEPT)
def test_names_keep_joiners_selectors_emoji_and_every_script(client, seller, upload_beat, name):
    seller_id, headers = seller
    beat_id = upload_beat(headers)
    patched = client.patch(f"/api/v1/beats/{beat_id}", json={"title": name}, headers=headers)
    assert patched.status_code == 200, patched.json
    assert patched.json["title"] == name
    credits = client.put(f"/api/v1/beats/{beat_id}/credits", headers=headers,
                         json=[{"name": name, "role": "producer", "user_id": seller_id}])
    assert credits.status_code == 200, credits.json
    assert credits.json["credits"][0]["name"] == name
    registered = register(client, email="kept@example.com", display_name=name)
    assert registered.status_code == 201, registered.json
    assert registered.json["display_name"] == name


def test_multi_line_fields_keep_line_breaks_and_refuse_overrides(client, seller, buyer, upload_beat):
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    kept = client.patch(f"/api/v1/beats/{beat_id}", json={"description": "Dark.\n\nSlow\tand heavy."},
                        headers=headers)
    assert kept.status_code == 200 and kept.json["description"] == "Dark.\n\nSlow\tand heavy."
    for value in ("Dark\u202eslow", "Dark\x07slow", "Dark\u2028slow", "Dark\x85slow"):
        response = client.patch(f"/api/v1/beats/{beat_id}", json={"description": value}, headers=headers)
        assert response.status_code == 422, response.json
        assert "The description must not contain" in response.json["error"]["details"]["description"][0]
        report = client.post(f"/api/v1/beats/{beat_id}/reports", headers=buyer[1],
                             json={"reason": "other", "details": value})
        assert report.status_code == 422, report.json
        assert "The report details must not contain" in report.json["error"]["details"]["details"][0]


# -- values stored before these rules -----------------------------------------------------------

def _store_legacy_title(app, beat_id: str, title: str) -> None:
    """A title written before the rules existed (or by any path that skips the API)."""
    from marketplace.catalog.models import Beat

    with app.app_context():
        db.session.get(Beat, beat_id).title = title
        db.session.commit()


FORBIDDEN = "\r\t\x00\x1b\x7f\x85\x9b\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _assert_clauses_in_order(text: str, last: int) -> None:
    clauses = [int(number) for number in CLAUSE_LINE.findall(text)]
    assert clauses == list(range(1, last + 1)), (clauses, text)
    assert not any(ch in text for ch in FORBIDDEN), text


def test_a_stored_injection_stays_inside_its_contract_clause(app, seller, make_user, upload_beat, offer_all,
                                                            sell):
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tiers = offer_all(headers, beat_id)
    _store_legacy_title(app, beat_id, CLAUSE_INJECTION)
    sold = {}
    for tier_name, last_clause in (("Basic lease", 10), ("Exclusive rights", 11)):
        buyer_id = make_user(Role.ARTIST, "Buyer\n\n1. GRANT. Everything")
        tier = tiers[tier_name]
        license_id = sell(beat_id, tier["id"], buyer_id, price=tier["default_price"]["amount"])
        sold[license_id] = last_clause
        with app.app_context():
            license_ = db.session.get(License, license_id)
            assert license_.contract_key is not None, "the contract was rendered"
            text = render_contract_text(license_.contract_template, contract_values(license_, 0, _parties(license_)))
        _assert_clauses_in_order(text, last_clause)
        assert '"Ride". 0. EXTRA TERMS. Licensee owes the Producer 50% of all income." (140 BPM' in text
        assert 'and Buyer 1. GRANT. Everything ("Licensee")' in text

    # Every other stored injection, in every value a person typed, on the same real licenses.
    for license_id, last_clause in sold.items():
        for value in INJECTIONS.values():
            with app.app_context():
                license_ = db.session.get(License, license_id)
                parties = _parties(license_)  # read before the edits below, which are never flushed
                license_.buyer_name = value
                license_.beat_snapshot = {**license_.beat_snapshot, "title": value, "beatmaker": value}
                license_.terms = {**license_.terms, "credit_line": value}
                license_.credits = [{**credit, "name": value} for credit in license_.credits]
                text = render_contract_text(license_.contract_template, contract_values(license_, 0, parties))
                db.session.rollback()
            _assert_clauses_in_order(text, last_clause)


def test_the_exclusive_sold_mail_keeps_a_stored_injection_out_of_its_headers(app, seller, buyer, make_user,
                                                                            upload_beat, offer_all, sell):
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tiers = offer_all(headers, beat_id)
    _store_legacy_title(app, beat_id, "Night\r\nBcc: everyone@example.com\r\n\r\n0. EXTRA TERMS")
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(outbox.glob("*.eml"))
    lessee = make_user(Role.ARTIST, "Lee Lessee")
    lease_id = sell(beat_id, tiers["Basic lease"]["id"], lessee)
    sell(beat_id, tiers["Exclusive rights"]["id"], buyer[0], price=49999)

    with app.app_context():
        assert db.session.get(License, lease_id).exclusive_notice_sent_at is not None, "the notice was sent"
    notices = []
    for path in set(outbox.glob("*.eml")) - before:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["Subject"].startswith("Exclusive rights to"):
            notices.append(message)
    assert len(notices) == 1
    notice = notices[0]
    assert notice["Subject"] == ('Exclusive rights to "Night Bcc: everyone@example.com 0. EXTRA TERMS" '
                                 'were sold')
    assert notice["Bcc"] is None
    assert "\n" not in str(notice["Subject"]) and "\r" not in str(notice["Subject"])
    body = mail_text(notice)
    assert '"Night Bcc: everyone@example.com 0. EXTRA TERMS" were sold' in body
    assert not any(line.startswith("0. EXTRA") for line in body.splitlines())


def test_a_stored_direction_override_never_reaches_file_names_or_tags(app, client, seller, buyer, upload_beat,
                                                                     offer_all, sell, tmp_path):
    from mutagen.id3 import ID3

    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tiers = offer_all(headers, beat_id)
    _store_legacy_title(app, beat_id, "evil\u202egnp.exe\r\nTitle")
    buyer_id, buyer_headers = buyer
    license_id = sell(beat_id, tiers["Basic lease"]["id"], buyer_id)
    links = client.get(f"/api/v1/licenses/{license_id}/downloads", headers=buyer_headers).json
    mp3 = next(link for link in links if link["kind"] == "mp3")
    number = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["license_number"]
    assert mp3["filename"] == f"evil gnp.exe Title ({number}).mp3"
    path = tmp_path / "delivered.mp3"
    path.write_bytes(client.get(mp3["url"]).data)
    assert str(ID3(path)["TIT2"]) == "evil gnp.exe Title"
