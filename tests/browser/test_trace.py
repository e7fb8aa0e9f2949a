"""The admin's leak tracing page in a real browser: a leaked excerpt of a lease's MP3 names its
license, buyer and date; a recording of no beat of ours gives "No mark found"."""

from __future__ import annotations

import shutil
import time

from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.db import db
from marketplace.licensing import issuing
from marketplace.licensing.models import LicenseFile, LicenseTier
from marketplace.storage.service import storage
from tests.browser.helpers import screenshot, sign_in
from tests.media import ffmpeg, make_song


BUILD_TIMEOUT_SECONDS = 120


def delivered_key(license_id: str) -> str:
    """The lease's MP3 once its background job has built it."""
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    while True:
        db.session.expire_all()
        key = db.session.scalar(select(LicenseFile.key).where(LicenseFile.license_id == license_id,
                                                              LicenseFile.kind == "mp3"))
        if key is not None:
            return key
        assert time.monotonic() < deadline, "the lease's MP3 was not built"
        time.sleep(0.2)


def test_an_admin_traces_a_leaked_excerpt_to_its_license(page, store, tmp_path):
    beatmaker = store.user("beatmaker", "Bea Maker")
    store._master = make_song(tmp_path / "song.wav", seconds=30, seed=5)
    beat = store.publish_beat(beatmaker, title="Leaked Nights")
    buyer = store.user("artist", "Lee Leaker")
    with store.app.app_context():
        tier = db.session.query(LicenseTier).filter_by(owner_id=beatmaker.id, name="Basic lease").one()
        license_ = issuing.issue_license(issuing.Sale(
            reference="browser-trace-1", beat_id=beat["id"], tier_id=tier.id, buyer=accounts.get_user(buyer.id),
            price_amount=2999, currency="usd"))
        db.session.commit()
        license_id, number = license_.id, license_.license_number
        mp3_key = delivered_key(license_id)
        with storage().local_copy(mp3_key) as delivered:
            mp3 = shutil.copy(delivered, tmp_path / "delivered.mp3")
    leak = tmp_path / "leak.m4a"
    ffmpeg("-ss", "4", "-t", "20", "-i", str(mp3), "-c:a", "aac", "-b:a", "128k", str(leak))

    sign_in(page, store.user("admin", "Ada Admin"))
    page.goto("/admin/trace")
    expect(page.get_by_role("heading", level=1, name="Leak tracing")).to_be_visible()
    page.get_by_label("Suspect recording").set_input_files(str(leak))
    page.get_by_role("button", name="Trace").click()
    answer = page.locator(".trace-answer")
    expect(answer.get_by_role("heading", name=f"License {number}")).to_be_visible(timeout=30_000)
    expect(answer).to_contain_text("Lee Leaker")
    expect(answer).to_contain_text("Leaked Nights")
    expect(answer).to_contain_text("Confidence")
    screenshot(page, "admin-trace-found")

    stranger = make_song(tmp_path / "stranger.wav", seconds=12, seed=11, bass_hz=98)
    page.get_by_label("Suspect recording").set_input_files(str(stranger))
    page.get_by_role("button", name="Trace").click()
    expect(answer.get_by_role("heading", name="No mark found")).to_be_visible(timeout=30_000)
    screenshot(page, "admin-trace-none")
