"""License contracts end to end: a real sale of a real upload renders a PDF that states the
terms it was sold under, once, privately, with no blank and no placeholder left."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from types import SimpleNamespace

import pypdf
import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.common.errors import AppError
from marketplace.licensing import tasks
from marketplace.licensing.contracts import (
    CURRENT_TEMPLATE,
    TEMPLATES,
    ContractIncomplete,
    Parties,
    contract_values,
    render_contract_text,
)
from marketplace.licensing.defaults import DEFAULT_TIERS
from marketplace.licensing.models import License

# Written out by hand, so a contract that states the wrong value (or a value in the wrong
# clause) fails, instead of agreeing with the code that produced it.
LIMIT_LABELS = {"distribution_copies": "Distribution copies", "audio_streams": "Audio streams",
                "music_videos": "Music videos", "radio_stations": "Radio stations",
                "paid_performances": "Paid performances"}
PRICES = {"Basic lease": "USD 29.99", "Premium lease": "USD 49.99", "Trackout lease": "USD 99.99",
          "Unlimited lease": "USD 199.99", "Exclusive rights": "USD 499.99"}
TERMS = {"Basic lease": "for a term of 10 years", "Premium lease": "for a term of 10 years",
         "Trackout lease": "for a term of 10 years", "Unlimited lease": "in perpetuity",
         "Exclusive rights": "in perpetuity"}
FILES = {"mp3": "MP3 (320 kbps, without the voice tag; its ID3 tags name this license)", "wav": "WAV",
         "stems": "stems (ZIP)"}
NO_EARLIER_LEASES = ("EARLIER LICENSES. No non-exclusive license of the Beat was sold before this date; any "
                     "whose purchase was already under way at that moment stays valid under its own terms.")
PARTIES = Parties(licensor_contact="metro@example.com", licensee_contact="ann@example.com",
                  platform="Beat marketplace", governing_law="the laws of England and Wales")
NO_CONTENT_ID = ("The Licensee may not register the Beat, or the new song, with YouTube Content ID "
                 "or any other content identification system.")
CONTENT_ID_OK = "The Licensee may register the new song with YouTube Content ID and similar systems."
SAMPLES_WARNING = ("WARNING: the Producer declares that the Beat contains samples that have NOT been "
                   "cleared.")
NO_SAMPLES = "The Producer declares that the Beat contains no samples of other recordings."
PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_]")


def expected_count(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


def flat(text: str) -> str:
    """Text with every run of whitespace made one space: the PDF wraps lines anywhere."""
    return " ".join(text.split())


def fetch_contract(client, license_id, headers):
    return client.get(f"/api/v1/licenses/{license_id}/contract.pdf", headers=headers)


def contract_text(client, license_id, headers) -> str:
    """The contract PDF as its buyer downloads it, checked and reduced to flat text."""
    response = fetch_contract(client, license_id, headers)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "no-store" in cache, cache
    assert response.data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return flat("\n".join(page.extract_text() for page in reader.pages))


def sell_tier(tier_name, *, seller, buyer_id, upload_beat, offer_all, sell, beat_id=None, **beat_fields):
    """Upload a beat with stems (unless given one), offer it under every default tier, and
    sell `tier_name` at its default price. Returns (license id, beat id)."""
    _seller_id, seller_headers = seller
    beat_id = beat_id or upload_beat(seller_headers, **beat_fields)
    tiers = offer_all(seller_headers, beat_id)
    tier = tiers[tier_name]
    return sell(beat_id, tier["id"], buyer_id, price=tier["default_price"]["amount"]), beat_id


# -- every default tier, end to end -----------------------------------------------------

@pytest.mark.parametrize("default", DEFAULT_TIERS, ids=[t["name"] for t in DEFAULT_TIERS])
def test_contract_of_each_default_tier_states_its_terms(client, seller, buyer, upload_beat, offer_all, sell,
                                                        license_row, default):
    buyer_id, buyer_headers = buyer
    license_id, _beat = sell_tier(default["name"], seller=seller, buyer_id=buyer_id, upload_beat=upload_beat,
                                  offer_all=offer_all, sell=sell)
    record = license_row(license_id)
    assert record.contract_template == CURRENT_TEMPLATE[default["kind"]]
    text = contract_text(client, license_id, buyer_headers)

    heading = "EXCLUSIVE RIGHTS AGREEMENT" if default["kind"] == "exclusive" else "NON-EXCLUSIVE LICENSE AGREEMENT"
    assert text.startswith(heading)
    assert f"License number: {record.license_number}" in text
    assert f"Date: {record.issued_at.strftime('%B %d, %Y')}" in text
    assert 'between Metro ("Producer") and Ann Artist ("Licensee")' in text
    assert '"Night Drive" (140 BPM, F# minor)' in text
    for name, label in LIMIT_LABELS.items():
        assert f"{label}: {expected_count(default['limits'][name])}." in text, (label, text)
    assert f", {TERMS[default['name']]}." in text
    assert "perpetuity (no end date)" not in text and "untagged" not in text
    assert 'must credit: "Prod. by Metro"' in text
    assert "composition and 50% of the publishing" in text
    assert "Master points kept by the Producer: 0%." in text
    assert (CONTENT_ID_OK if default["kind"] == "exclusive" else NO_CONTENT_ID) in text
    assert NO_SAMPLES in text
    assert f"FILES. {', '.join(FILES[kind] for kind in default['deliverables'])}, delivered by download." in text
    assert f"PRICE. {PRICES[default['name']]}, paid in full." in text
    assert "– Produced by Metro (profit share 100%)" in text
    assert "$" not in text and not PLACEHOLDER.search(text)
    if default["kind"] == "exclusive":
        assert NO_EARLIER_LEASES in text and "(0 issued)" not in text
    else:
        assert "EARLIER LICENSES" not in text


def test_the_default_tiers_exercise_every_current_contract_template():
    # The earlier versions stay, for the contracts that name them. The free download's template
    # has no tier: test_free_downloads renders it.
    current = {CURRENT_TEMPLATE[t["kind"]] for t in DEFAULT_TIERS} | {CURRENT_TEMPLATE["free"]}
    assert current == set(CURRENT_TEMPLATE.values())
    assert set(CURRENT_TEMPLATE.values()) < set(TEMPLATES)


def test_exclusive_contract_keeps_earlier_leases_valid(client, seller, buyer, make_user, headers_for, upload_beat,
                                                       offer_all, sell, license_row):
    buyer_id, buyer_headers = buyer
    lessee = make_user(Role.ARTIST, "Lee Lessee")
    lease_id, beat_id = sell_tier("Basic lease", seller=seller, buyer_id=lessee, upload_beat=upload_beat,
                                  offer_all=offer_all, sell=sell)
    exclusive_id, _ = sell_tier("Exclusive rights", seller=seller, buyer_id=buyer_id, beat_id=beat_id,
                                upload_beat=upload_beat, offer_all=offer_all, sell=sell)
    text = contract_text(client, exclusive_id, buyer_headers)
    assert ("EARLIER LICENSES. One non-exclusive license was sold before this date and stays valid under its "
            "own terms") in text, text
    # The lease itself is untouched, and still answers as active.
    lease = client.get(f"/api/v1/licenses/{lease_id}", headers=headers_for(lessee))
    assert lease.status_code == 200 and lease.json["status"] == "active"
    assert license_row(lease_id).contract_template == CURRENT_TEMPLATE["lease"]


def test_no_lease_is_issued_after_the_exclusive(app, seller, buyer, make_user, upload_beat, offer_all, sell):
    _seller_id, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    tiers = offer_all(seller_headers, beat_id)
    sell(beat_id, tiers["Exclusive rights"]["id"], buyer[0], price=49_999)
    # A checkout paid for a lease a moment too late: the exclusive contract just promised
    # that the Producer "will not license the Beat to anyone else".
    late = make_user(Role.ARTIST, "Late Lessee")
    with pytest.raises(AppError):
        sell(beat_id, tiers["Basic lease"]["id"], late)
    with app.app_context():
        assert db.session.scalar(select(func.count(License.id)).where(License.beat_id == beat_id)) == 1


# -- rendering, without the database ---------------------------------------------------------

def fake_license(default, **beat):
    """What contract_values reads from a license, for a default tier."""
    return SimpleNamespace(
        license_number="LIC-7K3Q-M9XD-2HPA-WB4E", issued_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
        buyer_name="Ann Artist", price_amount=default["default_price"], currency="usd",
        terms={"tier_name": default["name"], "kind": default["kind"], "deliverables": default["deliverables"],
               "limits": default["limits"], "term_years": default["term_years"], "credit_line": "Prod. by Metro",
               "publishing_share_bps": 5000, "master_points_bps": 0,
               "content_id": "allowed" if default["kind"] == "exclusive" else "not_allowed", "samples": "none"},
        credits=[{"name": "Metro", "user_id": None, "role": "producer", "role_label": "Produced by",
                  "profit_share_bps": 10000, "publishing_share_bps": None, "master_points_bps": None}],
        beat_snapshot={"title": "Night Drive", "bpm": 140, "key": "F# minor", "beatmaker": "Metro", **beat})


# The templates of sold licenses (the free download's states no tier: test_free_downloads renders it).
SALE_TEMPLATES = sorted(name for name in TEMPLATES if name != CURRENT_TEMPLATE["free"])


@pytest.mark.parametrize("template", SALE_TEMPLATES)
@pytest.mark.parametrize("default", DEFAULT_TIERS, ids=[t["name"] for t in DEFAULT_TIERS])
def test_every_template_renders_every_tier_in_full(template, default):
    text = flat(render_contract_text(template, contract_values(fake_license(default), 2, PARTIES)))
    for name, label in LIMIT_LABELS.items():
        assert f"{label}: {expected_count(default['limits'][name])}." in text
    assert f", {TERMS[default['name']]}." in text
    assert f"PRICE. {PRICES[default['name']]}, paid in full." in text
    assert "Date: March 01, 2026" in text
    assert "$" not in text
    if template.startswith("exclusive"):
        assert "2 non-exclusive licenses were sold before this date and stay valid under their own terms" \
            in text


def test_basic_lease_caps_are_written_with_thousands_separators():
    basic = next(t for t in DEFAULT_TIERS if t["name"] == "Basic lease")
    text = flat(render_contract_text("lease-v2", contract_values(fake_license(basic), 0, PARTIES)))
    assert "Distribution copies: 2,500. Audio streams: 50,000." in text
    assert "Paid performances: unlimited." in text


@pytest.mark.parametrize("change", [
    pytest.param(lambda values: values.pop("licensee"), id="missing"),
    pytest.param(lambda values: values.update(licensee="   "), id="blank"),
    pytest.param(lambda values: values.update(licensee=""), id="empty"),
    pytest.param(lambda values: values.update(licensee=None), id="none"),
])
def test_a_missing_or_empty_value_is_refused(change):
    values = contract_values(fake_license(DEFAULT_TIERS[0]), 0, PARTIES)
    render_contract_text("lease-v2", values)  # complete: renders
    change(values)
    with pytest.raises(ContractIncomplete, match="licensee"):
        render_contract_text("lease-v2", values)


def test_a_missing_earlier_lease_count_is_refused_by_the_exclusive_template_only():
    values = contract_values(fake_license(DEFAULT_TIERS[-1]), 0, PARTIES)
    del values["earlier_leases"]
    render_contract_text("lease-v2", values)
    with pytest.raises(ContractIncomplete, match="earlier_leases"):
        render_contract_text("exclusive-v2", values)


def test_a_dollar_sign_in_a_value_is_kept_verbatim():
    values = contract_values(fake_license(DEFAULT_TIERS[0], title="$uicide Money ${licensee} $$"), 0, PARTIES)
    text = render_contract_text("lease-v2", values)
    assert '"$uicide Money ${licensee} $$" (140 BPM, F# minor)' in text
    assert "Ann Artist" in text


# -- values the PDF must carry -------------------------------------------------------------

def test_a_title_with_a_dollar_sign_reaches_the_pdf(client, seller, buyer, upload_beat, offer_all, sell):
    buyer_id, buyer_headers = buyer
    license_id, _ = sell_tier("Basic lease", seller=seller, buyer_id=buyer_id, upload_beat=upload_beat,
                              offer_all=offer_all, sell=sell, title="$uicide Money")
    text = contract_text(client, license_id, buyer_headers)
    assert '"$uicide Money" (140 BPM, F# minor)' in text
    assert text.count("$") == 1  # the title's own, and no placeholder


@pytest.mark.parametrize("name", [
    "Zoë Łódź-Ñúñez",
    "Zoë 夜",
    "佐藤 & Пётр",
])
def test_non_ascii_names_appear_in_the_pdf(client, app, seller, make_user, headers_for, upload_beat, offer_all,
                                           sell, name):
    buyer_id = make_user(Role.ARTIST, name)
    license_id, _ = sell_tier("Basic lease", seller=seller, buyer_id=buyer_id, upload_beat=upload_beat,
                              offer_all=offer_all, sell=sell)
    text = contract_text(client, license_id, headers_for(buyer_id))
    assert f'and {name} ("Licensee")' in text, text[:400]


@pytest.mark.parametrize("samples, present, absent", [
    ("uncleared", SAMPLES_WARNING, NO_SAMPLES),
    ("none", NO_SAMPLES, "WARNING"),
])
def test_lease_states_the_sample_declaration(client, seller, buyer, upload_beat, offer_all, sell, samples, present,
                                             absent):
    buyer_id, buyer_headers = buyer
    beat_id = upload_beat(seller[1], samples=samples)
    # A beat with uncleared samples cannot be sold exclusively: offer the leases only.
    tiers = offer_all(seller[1], beat_id, names=["Basic lease"])
    license_id = sell(beat_id, tiers["Basic lease"]["id"], buyer_id)
    text = contract_text(client, license_id, buyer_headers)
    assert f"SAMPLES. {present}" in text
    assert absent not in text


# -- rendered once, frozen --------------------------------------------------------------------

def test_contract_is_rendered_once_and_terms_stay_frozen(app, client, seller, buyer, upload_beat, offer_all, sell,
                                                         license_row, monkeypatch):
    _seller_id, seller_headers = seller
    buyer_id, buyer_headers = buyer
    beat_id = upload_beat(seller_headers)
    tiers = offer_all(seller_headers, beat_id)
    basic = tiers["Basic lease"]
    license_id = sell(beat_id, basic["id"], buyer_id, price=2999)
    before = license_row(license_id)
    assert before.contract_key and before.contract_sha256
    served = fetch_contract(client, license_id, buyer_headers).data
    assert hashlib.sha256(served).hexdigest() == before.contract_sha256
    terms_before = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["terms"]
    assert terms_before["limits"]["distribution_copies"] == 2500

    rendered = []
    monkeypatch.setattr(tasks, "render_contract_pdf", lambda *args: rendered.append(args))
    with app.app_context():
        tasks.render_contract(license_id)
        db.session.commit()
    assert rendered == []  # the job found the contract and did nothing
    again = license_row(license_id)
    assert (again.contract_key, again.contract_sha256) == (before.contract_key, before.contract_sha256)

    patched = client.patch(f"/api/v1/license-tiers/{basic['id']}", headers=seller_headers,
                           json={"limits": {"distribution_copies": 1, "paid_performances": 3},
                                 "term_years": 2})
    assert patched.status_code == 200, patched.json
    assert patched.json["limits"]["distribution_copies"] == 1 and patched.json["term_years"] == 2
    with app.app_context():
        tasks.render_contract(license_id)
    document = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json
    assert document["terms"] == terms_before
    assert document["terms"]["limits"]["paid_performances"] is None and document["terms"]["term_years"] == 10
    assert license_row(license_id).contract_sha256 == before.contract_sha256
    text = contract_text(client, license_id, buyer_headers)
    assert "Distribution copies: 2,500." in text and "for a term of 10 years." in text


# -- private ---------------------------------------------------------------------------------

def test_contract_is_private_to_its_buyer_and_admins(client, seller, buyer, make_user, headers_for,
                                                     upload_beat, offer_all, sell):
    buyer_id, buyer_headers = buyer
    license_id, _ = sell_tier("Basic lease", seller=seller, buyer_id=buyer_id, upload_beat=upload_beat,
                              offer_all=offer_all, sell=sell)
    assert fetch_contract(client, license_id, buyer_headers).status_code == 200
    stranger = headers_for(make_user(Role.ARTIST, "Stranger"))
    refused = fetch_contract(client, license_id, stranger)
    assert refused.status_code == 404 and refused.json["error"]["code"] == "license_not_found"
    assert fetch_contract(client, license_id, {}).status_code == 401
    admin = headers_for(make_user(Role.ADMIN, "Admin"))
    assert "Ann Artist" in contract_text(client, license_id, admin)


def test_a_lease_whose_checkout_began_before_the_exclusive_sale_is_honoured(app, seller, buyer, make_user,
                                                                           upload_beat, offer_all, sell):
    """Rule 4's spirit: it was on sale when the buyer started paying."""
    from marketplace.accounts import services as accounts
    from marketplace.licensing import issuing

    _seller_id, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    tiers = offer_all(seller_headers, beat_id)
    started = dt.datetime.now(dt.UTC)
    sell(beat_id, tiers["Exclusive rights"]["id"], buyer[0], price=49_999)
    late = make_user(Role.ARTIST, "Started Earlier")
    with app.app_context():
        lease = issuing.issue_license(issuing.Sale(reference="late-but-begun", beat_id=beat_id,
                                                   tier_id=tiers["Basic lease"]["id"], buyer=accounts.get_user(late),
                                                   price_amount=2999, currency="usd", checkout_started_at=started))
        db.session.commit()
        assert lease.status == "active"


def test_a_contract_never_drops_a_character(app):
    from marketplace.licensing.contracts import ContractIncomplete, check_printable

    check_printable("Zoë 夜 佐藤 Ωμέγα Привет 김민준 DJ 🎧 Fan")
    with pytest.raises(ContractIncomplete):
        check_printable("Licensee: \U0001fae8")  # an emoji newer than every installed font
