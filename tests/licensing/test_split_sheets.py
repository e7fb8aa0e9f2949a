"""Split sheets as documents: each version of a beat's split sheet prints as a PDF naming every
contributor with their shares, consent and acceptance times, and the version's number and
SHA-256; a license's contract names the version in force at its sale."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from marketplace.accounts.models import Role
from marketplace.licensing.contracts import CURRENT_TEMPLATE, contract_values, render_contract_text
from marketplace.licensing.defaults import DEFAULT_TIERS
from tests.licensing.pdf_fonts import drawn_characters, extracted_text, invisible, render_png
from tests.licensing.test_contracts import PARTIES, contract_text, fake_license, flat, sell_tier

COLLABORATOR = "佐藤 健 🎧"
NEWCOMER = "محمد العلي"
NEWCOMER_EMAIL = "newcomer@example.com"


def put_profile(client, headers, handle, display_name):
    response = client.put("/api/v1/me/profile", json={"handle": handle, "display_name": display_name},
                          headers=headers)
    assert response.status_code == 200, response.json


def pdf_of(client, beat_id, number, headers):
    return client.get(f"/api/v1/beats/{beat_id}/split-sheet/versions/{number}.pdf", headers=headers)


def sheet_text(client, beat_id, number, headers) -> tuple[str, bytes]:
    response = pdf_of(client, beat_id, number, headers)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "no-store" in cache
    return extracted_text(response.data), response.data


def printed_time(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%B %d, %Y at %H:%M UTC")


@pytest.fixture
def credited_beat(client, make_user, headers_for, seller, upload_beat):
    """A beat of Metro's: a collaborator invited by handle who accepted (25% profit, 50%
    publishing, BMI, IPI), and a newcomer invited by address who has not answered (10%)."""
    _seller_id, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    collaborator = make_user(Role.BEATMAKER, COLLABORATOR)
    collaborator_headers = headers_for(collaborator)
    put_profile(client, collaborator_headers, "sato.ken", COLLABORATOR)
    invited = client.post(f"/api/v1/beats/{beat_id}/invitations", headers=seller_headers, json={
        "handle": "@sato.ken", "name": COLLABORATOR, "role": "co_producer", "profit_share_bps": 2500,
        "publishing_share_bps": 5000, "pro": "BMI", "ipi": "123456789"})
    assert invited.status_code == 201, invited.json
    accepted = client.post(f"/api/v1/me/credit-invitations/{invited.json['id']}/accept",
                           headers=collaborator_headers)
    assert accepted.status_code == 200, accepted.json
    pending = client.post(f"/api/v1/beats/{beat_id}/invitations", headers=seller_headers, json={
        "email": NEWCOMER_EMAIL, "name": NEWCOMER, "role": "songwriter", "profit_share_bps": 1000})
    assert pending.status_code == 201, pending.json
    return SimpleNamespace(beat_id=beat_id, collaborator=collaborator,
                           collaborator_headers=collaborator_headers, accepted=accepted.json,
                           pending=pending.json)


def test_the_split_sheet_lists_every_contributor_their_shares_consent_version_and_hash(
        client, seller, credited_beat, tmp_path):
    _seller_id, seller_headers = seller
    sheet = client.get(f"/api/v1/beats/{credited_beat.beat_id}/split-sheet", headers=seller_headers).json
    current = sheet["in_force"]
    text, pdf = sheet_text(client, credited_beat.beat_id, current["number"], seller_headers)

    assert text.startswith("SPLIT SHEET")
    assert 'Beat: "Night Drive" (140 BPM, F# minor)' in text
    assert f"Version: {current['number']}, in force since {printed_time(current['in_force_at'])}" in text
    assert f"SHA-256: {current['content_hash']}" in text
    # Every contributor, their role and shares as percentages, PRO and IPI where given.
    assert "Metro Producer 65% none none none The owner's own credit" in text, text
    assert f"{COLLABORATOR} Co-producer 25% 50% BMI 123456789 Accepted on " \
           f"{printed_time(credited_beat.accepted['decided_at'])}" in text
    assert "Songwriter 10% none none none Pending: invited on " \
           f"{printed_time(credited_beat.pending['created_at'])}, not accepted yet" in text
    assert "Total 100% 50%" in text
    # Each acceptance with its time; the newcomer who has not answered is pending, not a blank.
    owner_acceptance = next(a for a in current["acceptances"] if a["name"] == "Metro")
    assert f"Accepted on {printed_time(owner_acceptance['accepted_at'])} by Metro." in text
    # The collaborator accepted their credit with the invitation; the later version (the
    # newcomer's invitation) left their shares alone, so it did not ask them again.
    assert (f"Accepted on {printed_time(credited_beat.accepted['decided_at'])} by {COLLABORATOR}: the "
            "invitation to this credit (this version keeps their shares).") in text
    assert "has not answered the invitation yet." in text
    assert "Pending:" in text.split("ACCEPTANCES")[1]
    # The Arabic name is shaped (extracted in visual order): every character has its glyph.
    drawn, problems = drawn_characters(pdf)
    assert problems == []
    for name in (COLLABORATOR, NEWCOMER):
        assert {ch for ch in name if not invisible(ch)} <= drawn, name
    assert render_png(pdf, tmp_path, "split-sheet")


def test_any_past_version_prints_as_it_was(client, seller, credited_beat):
    _seller_id, seller_headers = seller
    versions = client.get(f"/api/v1/beats/{credited_beat.beat_id}/split-sheet/versions",
                          headers=seller_headers).json["items"]
    first = next(v for v in versions if v["number"] == 1)
    text, _pdf = sheet_text(client, credited_beat.beat_id, 1, seller_headers)
    assert f"SHA-256: {first['content_hash']}" in text
    assert "Version: 1, in force from" in text and "when a later version replaced it" in text
    assert "Metro Producer 100%" in text
    assert COLLABORATOR not in text.split("ACCEPTANCES")[0]
    hashes = {v["content_hash"] for v in versions}
    assert len(hashes) == len(versions)  # each version its own hash


def test_collaborators_may_download_the_sheet_and_nobody_else(client, make_user, headers_for, seller,
                                                               credited_beat):
    beat_id = credited_beat.beat_id
    number = client.get(f"/api/v1/beats/{beat_id}/split-sheet", headers=seller[1]).json["in_force"]["number"]
    assert pdf_of(client, beat_id, number, credited_beat.collaborator_headers).status_code == 200
    # The newcomer, once their address is theirs, sees the sheet of the beat they are invited to.
    newcomer = client.post("/api/v1/auth/register", json={
        "email": NEWCOMER_EMAIL, "password": "correct horse battery", "display_name": NEWCOMER,
        "account_type": "artist"})
    assert newcomer.status_code == 201
    stranger = headers_for(make_user(Role.BEATMAKER, "Stranger"))
    refused = pdf_of(client, beat_id, number, stranger)
    assert refused.status_code == 404 and refused.json["error"]["code"] == "beat_not_found"
    assert pdf_of(client, beat_id, number, {}).status_code == 401
    missing = pdf_of(client, beat_id, 99, seller[1])
    assert missing.status_code == 404 and missing.json["error"]["code"] == "split_version_not_found"


def test_the_contract_names_the_split_sheet_version_in_force_at_the_sale(client, seller, buyer, credited_beat,
                                                                        upload_beat, offer_all, sell):
    buyer_id, buyer_headers = buyer
    sheet = client.get(f"/api/v1/beats/{credited_beat.beat_id}/split-sheet", headers=seller[1]).json
    license_id, _ = sell_tier("Basic lease", seller=seller, buyer_id=buyer_id, beat_id=credited_beat.beat_id,
                              upload_beat=upload_beat, offer_all=offer_all, sell=sell)
    text = contract_text(client, license_id, buyer_headers)
    version = sheet["in_force"]
    assert (f"CREDITS OF THE BEAT. These are the credits of version {version['number']} of the Beat's split "
            "sheet, in force when this license was sold: – Produced by Metro") in text, text
    assert f"Co-produced by {COLLABORATOR} (profit share 25%) (publishing 50%)" in text
    assert (f"10%) – Split sheet version {version['number']}, SHA-256: {version['content_hash']} "
            "ACCEPTANCE.") in text  # a line of its own after the last credit (the newcomer's, right to left)


@pytest.mark.parametrize("default", [DEFAULT_TIERS[0], DEFAULT_TIERS[-1]], ids=["lease", "exclusive"])
def test_a_license_sold_before_split_sheets_says_so_rather_than_leave_a_blank(default):
    text = flat(render_contract_text(CURRENT_TEMPLATE[default["kind"]],
                                     contract_values(fake_license(default), 0, PARTIES)))
    assert ("CREDITS OF THE BEAT. These are the Beat's credits as listed when this license was sold: "
            "- Produced by Metro (profit share 100%) - No split sheet of the Beat was on record at the time of "
            "this sale.") in text
    version = SimpleNamespace(number=4, content_hash="ab" * 32)
    text = flat(render_contract_text(CURRENT_TEMPLATE[default["kind"]],
                                     contract_values(fake_license(default), 0, PARTIES, version)))
    assert ("version 4 of the Beat's split sheet, in force when this license was sold: - Produced by Metro "
            f"(profit share 100%) - Split sheet version 4, SHA-256: {'ab' * 32}") in text


def test_a_proposed_change_shows_whose_acceptance_it_waits_for(client, seller, credited_beat):
    _seller_id, seller_headers = seller
    beat_id = credited_beat.beat_id
    credits = client.get(f"/api/v1/beats/{beat_id}/credits", headers=seller_headers).json["credits"]
    # The owner moves the accepted collaborator's share: the change waits for them.
    changed = [{key: credit[key] for key in ("name", "role", "user_id", "invitation_id", "profit_share_bps",
                                             "publishing_share_bps", "pro", "ipi")} for credit in credits]
    changed[0]["profit_share_bps"], changed[1]["profit_share_bps"] = 7500, 1500
    saved = client.put(f"/api/v1/beats/{beat_id}/credits", json=changed, headers=seller_headers)
    assert saved.status_code == 200, saved.json
    sheet = client.get(f"/api/v1/beats/{beat_id}/split-sheet", headers=seller_headers).json
    proposed = sheet["proposed"]
    assert proposed is not None
    text, _pdf = sheet_text(client, beat_id, proposed["number"], seller_headers)
    assert (f"Version: {proposed['number']}, proposed on {printed_time(proposed['created_at'])}, waiting for "
            "acceptances: sales follow the version in force") in text
    assert f"Pending: {COLLABORATOR} has not accepted this version yet." in text
    assert f"{COLLABORATOR} Co-producer 15% 50% BMI 123456789" in text


def test_the_same_facts_print_the_same_sheet_and_a_changed_consent_a_new_one(client, seller, credited_beat):
    _seller_id, seller_headers = seller
    beat_id = credited_beat.beat_id
    sheet = client.get(f"/api/v1/beats/{beat_id}/split-sheet", headers=seller_headers).json
    number = sheet["in_force"]["number"]
    first = pdf_of(client, beat_id, number, seller_headers)
    again = pdf_of(client, beat_id, number, seller_headers)
    assert first.data == again.data  # stored once, served as stored
    assert "Pending: invited on" in extracted_text(first.data)
    cancelled = client.post(f"/api/v1/credit-invitations/{credited_beat.pending['id']}/cancel",
                            headers=seller_headers)
    assert cancelled.status_code == 200, cancelled.json
    text = extracted_text(pdf_of(client, beat_id, number, seller_headers).data)
    assert (f"Invitation withdrawn on {printed_time(cancelled.json['decided_at'])}: name only, paid to the "
            "owner") in text
    assert f"As of: {printed_time(cancelled.json['decided_at'])}" in text
