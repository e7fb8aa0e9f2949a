"""Every field of a beat's document its owner describes is editable through PATCH /beats/{id}
(and so in the studio's details form): set in any script and emoji, then emptied again. What
the platform works out itself (status, files, prices, counts, dates) is listed, so a new
descriptive field cannot be added to the document without a way to edit it."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import BeatSchema, BeatUpdateSchema

# Fields of the beat document that are not typed by its owner in the details form: worked out by
# the platform, or edited elsewhere (credits, offers, files, archiving).
NOT_DETAILS = {"id", "status", "duration_ms", "play_count", "price_from", "offers", "beatmaker", "credits",
               "credit_line", "failure_reason", "preview_url", "waveform_url", "cover_url", "has_stems",
               "lossless_master", "created_at", "published_at", "sold_exclusive_at"}


def test_every_descriptive_field_of_the_document_can_be_edited():
    described = set(BeatSchema().fields) - NOT_DETAILS
    assert described <= set(BeatUpdateSchema().fields), described - set(BeatUpdateSchema().fields)


def test_every_field_is_saved_and_emptied_again(client, make_user, headers_for, make_beat):
    owner = make_user(Role.BEATMAKER, "Nadia")
    headers = headers_for(owner)
    original = make_beat(owner, title="Original")
    beat_id = make_beat(owner, title="Plain")
    changes = {"title": "Nuit blanche 🌙 夜の街", "bpm": 92, "key": "c sharp minor", "genre": "Lo-Fi",
               "mood": "Dreamy", "tags": ["rain", "night drive", "🌧"],
               "description": "Two lines:\nrecorded at night ✨.", "samples": "cleared",
               "version_of": original}
    saved = client.patch(f"/api/v1/beats/{beat_id}", headers=headers, json=changes)
    assert saved.status_code == 200, saved.json
    again = client.get(f"/api/v1/beats/{beat_id}").json
    assert {name: again[name] for name in changes} == {
        "title": "Nuit blanche 🌙 夜の街", "bpm": 92, "key": "C# minor", "genre": "lo-fi", "mood": "dreamy",
        "tags": ["rain", "night drive", "🌧"], "description": "Two lines:\nrecorded at night ✨.",
        "samples": "cleared", "version_of": original}

    emptied = client.patch(f"/api/v1/beats/{beat_id}", headers=headers, json={
        "key": None, "genre": None, "mood": None, "tags": [], "description": "", "version_of": None,
        "samples": "none"})
    assert emptied.status_code == 200, emptied.json
    body = emptied.json
    assert (body["key"], body["genre"], body["mood"], body["tags"], body["description"], body["version_of"],
            body["samples"]) == (None, None, None, [], "", None, "none")
    assert body["title"] == "Nuit blanche 🌙 夜の街" and body["bpm"] == 92  # what was not sent stays
