"""`flask seed demo`: a living store built once, through the real upload and preview pipeline."""

from __future__ import annotations

import io
import wave
import zipfile

import numpy as np
from sqlalchemy import func, select

from marketplace.audio import synth
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.demo.catalogue import BEATMAKERS, DEMO_ACCOUNTS, DEMO_BEATS
from marketplace.models import metadata
from tests.checkout.conftest import payments, session_of  # noqa: F401
from tests.conftest import bearer, login


def seed(app):
    return app.test_cli_runner().invoke(args=["seed", "demo"])


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in metadata.sorted_tables}


def token_of(client, email: str) -> str:
    password = next(account.password for account in DEMO_ACCOUNTS if account.email == email)
    response = login(client, email, password)
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def store_beats(client) -> dict[str, dict]:
    response = client.get("/api/v1/beats?limit=50")
    assert response.status_code == 200, response.json
    return {beat["title"]: beat for beat in response.json["items"]}


def assert_playable(client, beat) -> None:
    preview = client.get(f"/api/v1/beats/{beat['id']}/preview")
    assert preview.status_code == 200 and preview.mimetype == "audio/mpeg"
    assert len(preview.data) > 100_000  # 30 s of audio, not a stub
    waveform = client.get(f"/api/v1/beats/{beat['id']}/waveform")
    assert waveform.status_code == 200
    assert waveform.json["length"] > 0 and max(waveform.json["data"]) > 0  # peaks of sound, not silence
    cover = client.get(f"/api/v1/beats/{beat['id']}/cover")
    assert cover.status_code == 200 and cover.data.startswith(b"\xff\xd8\xff")  # the platform's JPEG


def test_seed_demo_builds_a_living_store_once(app, client):
    first = seed(app)
    assert first.exit_code == 0, first.output
    assert "Building the demo store" in first.output
    # Every printed account signs in with its printed password, with its role.
    for account in DEMO_ACCOUNTS:
        assert account.email in first.output and account.password in first.output
        me = client.get("/api/v1/me", headers=bearer(token_of(client, account.email))).json
        assert me["roles"] == [account.role.value] and me["display_name"] == account.display_name

    beats = store_beats(client)
    assert sorted(beats) == sorted(beat.title for beat in DEMO_BEATS)
    assert len({beat["genre"] for beat in beats.values()}) >= 5
    assert len({(beat["key"], beat["bpm"]) for beat in beats.values()}) == len(DEMO_BEATS)
    for beat in beats.values():
        assert beat["status"] == "published"
        assert beat["description"] and beat["tags"] and beat["mood"]
        assert beat["offers"] and all(offer["price"]["amount"] > 0 for offer in beat["offers"])
        assert_playable(client, beat)
    with app.app_context():
        masters = db.session.scalars(select(Beat.master_sha256)).all()
    assert len(set(masters)) == len(DEMO_BEATS)  # each beat was synthesized on its own

    # Credits tell who made the beat from who produced the record, with shares that add up.
    lines = {title: beat["credit_line"] for title, beat in beats.items()}
    assert lines["Concrete Letters"] == "Prod. by Demo Beatmaker & Marcus Vale"
    assert lines["Velvet Hours"] == "Beat by Kaya Keys"
    assert lines["Paper Lanterns"] == "Prod. by Kaya Keys, beat by Demo Beatmaker"
    assert lines["Lagos Sunset"] == "Prod. by Demo Beatmaker, co-prod. by Kaya Keys"
    credits = client.get(f"/api/v1/beats/{beats['Lagos Sunset']['id']}/credits").json["credits"]
    assert {(c["name"], c["role"]) for c in credits} >= {("Lena Park", "mix_engineer"),
                                                         ("Kaya Keys", "co_producer")}
    for beat in beats.values():
        shares = client.get(f"/api/v1/beats/{beat['id']}/credits").json["credits"]
        assert sum(c["profit_share_bps"] or 0 for c in shares) == 10_000

    # The beat with stems is offered up to its exclusive rights; one without stems is not.
    assert "Exclusive rights" in {o["name"] for o in beats["Midnight Drive"]["offers"]}
    assert all("stems" not in o["deliverables"] for o in beats["Velvet Hours"]["offers"])

    # Every demo beatmaker has a tag of their own.
    for email in ("beatmaker@demo.test", "keys@demo.test", "vale@demo.test"):
        tag = client.get("/api/v1/me/voice-tag", headers=bearer(token_of(client, email)))
        assert tag.status_code == 200 and tag.json["custom"] is True

    # Every demo beatmaker has a public page, linked from their beats.
    for account in BEATMAKERS:
        profile = client.get(f"/api/v1/profiles/{account.handle}")
        assert profile.status_code == 200 and profile.json["display_name"] == account.display_name
    assert beats["Midnight Drive"]["beatmaker"]["handle"] == "demobeats"

    seller = bearer(token_of(client, "beatmaker@demo.test"))
    coupons = client.get("/api/v1/coupons", headers=seller).json
    assert [(coupon["code"], coupon["percent_off"], coupon["active"]) for coupon in coupons] == [
        ("DEMO10", 10, True)]
    deal = client.get("/api/v1/deal", headers=seller).json
    assert (deal["buy_count"], deal["free_count"]) == (2, 1)

    # The admin finds reports waiting.
    admin = bearer(token_of(client, "admin@demo.test"))
    queue = client.get("/api/v1/admin/reports?status=open", headers=admin)
    assert queue.status_code == 200, queue.json
    reported = {report["beat"]["title"] for report in queue.json["items"]}
    assert reported == {"Southside Sirens", "Glass Skyline"}

    before = row_counts(app)
    second = seed(app)
    assert second.exit_code == 0, second.output
    assert "made now: nothing" in second.output
    assert row_counts(app) == before

    # A demo beat an earlier run left failed is set aside and uploaded again by the next run.
    with app.app_context():
        failed = db.session.get(Beat, beats["Velvet Hours"]["id"])
        failed.status, failed.published_at, failed.failure_reason = "failed", None, "The render failed."
        db.session.commit()
    third = seed(app)
    assert third.exit_code == 0, third.output
    assert "Velvet Hours" in third.output.split("made now:")[1]
    again = store_beats(client)
    assert sorted(again) == sorted(beat.title for beat in DEMO_BEATS)
    assert again["Velvet Hours"]["id"] != beats["Velvet Hours"]["id"]
    assert again["Velvet Hours"]["status"] == "published"
    assert_playable(client, again["Velvet Hours"])
    with app.app_context():
        assert db.session.get(Beat, beats["Velvet Hours"]["id"]).status == "archived"
    fourth = seed(app)
    assert fourth.exit_code == 0, fourth.output
    assert "made now: nothing" in fourth.output


def test_seed_demo_serves_a_used_store_and_reset_starts_over(app, client, payments, session_of,
                                                             storage_root):
    """A store that was played with (an exclusive sold, a beat archived) is seeded again and
    served as it is; `--reset` builds the fresh demo store."""
    assert seed(app).exit_code == 0
    beats = store_beats(client)
    artist = bearer(token_of(client, "artist@demo.test"))
    lagos = beats["Lagos Sunset"]
    exclusive = next(offer["tier_id"] for offer in lagos["offers"] if offer["name"] == "Exclusive rights")
    order = client.post("/api/v1/checkout", json={"items": [{"beat_id": lagos["id"], "tier_id": exclusive}]},
                        headers=artist)
    assert order.status_code == 201, order.json
    payments.complete(session_of(order.json["order_id"]), deliver="sync")
    paid = client.get(f"/api/v1/orders/{order.json['order_id']}", headers=artist).json
    assert paid["status"] == "paid"
    owner = bearer(token_of(client, "keys@demo.test"))  # Velvet Hours is Kaya Keys' beat
    assert client.delete(f"/api/v1/beats/{beats['Velvet Hours']['id']}", headers=owner).status_code == 200

    before = row_counts(app)
    again = seed(app)
    assert again.exit_code == 0, again.output
    assert "made now: nothing" in again.output
    assert "Lagos Sunset: its exclusive rights were sold" in again.output
    assert "Velvet Hours: archived by its owner" in again.output
    assert "make reset" in again.output and "admin@demo.test" in again.output
    assert row_counts(app) == before  # nothing uploaded again in place of the sold or archived beat
    listed = store_beats(client)
    assert not {"Velvet Hours", "Lagos Sunset"} & set(listed) and "Midnight Drive" in listed
    sold = client.get(f"/api/v1/beats/{lagos['id']}").json  # its page stays, as a sold beat's does
    assert sold["status"] == "sold_exclusive"
    assert client.get(f"/api/v1/orders/{order.json['order_id']}", headers=artist).json["status"] == "paid"

    stored_before = sorted(path for path in storage_root.rglob("*") if path.is_file())
    fresh = app.test_cli_runner().invoke(args=["seed", "demo", "--reset"])
    assert fresh.exit_code == 0, fresh.output
    assert "Starting over" in fresh.output and "not in the store" not in fresh.output
    reseeded = store_beats(client)
    assert sorted(reseeded) == sorted(beat.title for beat in DEMO_BEATS)
    assert all(beat["status"] == "published" for beat in reseeded.values())
    assert reseeded["Lagos Sunset"]["id"] != lagos["id"]
    assert client.get(f"/api/v1/orders/{order.json['order_id']}", headers=artist).status_code == 401
    assert not set(stored_before) & set(path for path in storage_root.rglob("*") if path.is_file())
    assert_playable(client, reseeded["Velvet Hours"])


def test_seed_demo_refuses_outside_development(app):
    app.config["ENV_NAME"] = "production"
    try:
        result = seed(app)
    finally:
        app.config["ENV_NAME"] = "testing"
    assert result.exit_code != 0
    assert "development only" in result.output
    assert row_counts(app)["users"] == 0


def test_demo_audio_is_a_beat_in_its_key_and_tempo(tmp_path):
    parts = synth.compose("A minor", 120, "trap", seconds=12)
    master = synth.write_wav(tmp_path / "master.wav", parts.mix())
    with wave.open(str(master)) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getsampwidth()) == (2, 44_100, 2)
        seconds = audio.getnframes() / audio.getframerate()
    assert 12 <= seconds <= 12 + 2 + 0.5  # whole 2-second bars, and a short tail

    # The bass sits on the key's tonic in the first bar: A2 (110 Hz) is its strongest low partial.
    bar = parts.bass[: 2 * synth.RATE].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(bar))
    frequencies = np.fft.rfftfreq(len(bar), 1 / synth.RATE)
    low = frequencies < 200
    assert abs(frequencies[low][spectrum[low].argmax()] - 110.0) < 1.0

    # The kick lands on every bar's downbeat: 2 seconds apart at 120 bpm.
    drums = np.abs(parts.drums.mean(axis=1))
    onsets = [bar_start for bar_start in range(0, 12 * synth.RATE, 2 * synth.RATE)
              if drums[bar_start: bar_start + 441].max() > 0.3]
    assert len(onsets) == 6

    stems = synth.write_stems_zip(tmp_path / "stems.zip", parts, tmp_path)
    with zipfile.ZipFile(stems) as archive:
        assert sorted(archive.namelist()) == ["bass.wav", "chords.wav", "drums.wav"]
        with wave.open(io.BytesIO(archive.read("drums.wav"))) as stem:
            assert stem.getnchannels() == 1


def test_producer_tags_of_different_notes_differ():
    first, second = synth.producer_tag((76, 79, 84)), synth.producer_tag((84, 79, 72))
    assert len(first) == len(second) and 0.5 < len(first) / synth.RATE < 1.0
    assert np.abs(first).max() == np.abs(second).max()  # both normalised to the same peak
    assert not np.allclose(first, second)
