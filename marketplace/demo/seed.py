"""Building the demo store with the same services the API uses, one step at a time.

Each step looks first and makes only what is missing, so a second run creates nothing and a
run that was interrupted is completed. Steps flush and never commit: the command commits after
each one, which is also when the beats' previews are rendered (by the job that renders every
upload's preview).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.audio import synth
from marketplace.catalog import services as catalog
from marketplace.catalog import uploads, voice_tags
from marketplace.catalog.lifecycle import PUBLIC_STATUSES, BeatStatus
from marketplace.catalog.models import Beat
from marketplace.checkout import promotions
from marketplace.db import db
from marketplace.demo.catalogue import (BEATMAKER, BEATMAKERS, COUPON, DEAL, DEMO_ACCOUNTS, DEMO_BEATS,
                                        DEMO_REPORTS, DemoAccount, DemoBeat, DemoCredit, DemoReport)
from marketplace.demo.covers import write_cover_png
from marketplace.jobs.queue import enqueue
from marketplace.licensing import offers, tiers
from marketplace.moderation import reports
from marketplace.moderation.models import Report
from marketplace.profiles import services as profiles


@dataclasses.dataclass(frozen=True)
class Step:
    label: str
    run: Callable[[Path], bool]  # makes what is missing, with scratch files in a folder; True if it made any


def steps() -> list[Step]:
    """Every step, in an order that works: accounts, then tags (so previews carry them), then
    beats, then what needs published beats."""
    return ([Step("accounts", ensure_accounts), Step("public profiles", ensure_handles)]
            + [Step(f"tag of {account.display_name}", functools.partial(ensure_voice_tag, account))
               for account in BEATMAKERS]
            + [Step(beat.title, functools.partial(ensure_beat, beat)) for beat in DEMO_BEATS]
            + [Step("coupon and deal", ensure_promotions)]
            + [Step(f"report on {report.beat_title}", functools.partial(ensure_report, report))
               for report in DEMO_REPORTS])


def user_of(account: DemoAccount) -> User:
    user = accounts.find_user_by_email(account.email)
    if user is None:
        raise LookupError(f"the demo account {account.email} is missing")
    return user


def ensure_accounts(_folder: Path) -> bool:
    missing = [account for account in DEMO_ACCOUNTS if accounts.find_user_by_email(account.email) is None]
    for account in missing:
        accounts.create_user(account.email, account.password, account.display_name, account.role, verified=True)
    db.session.flush()
    return bool(missing)


def ensure_handles(_folder: Path) -> bool:
    """Each beatmaker's handle, so the store links to their public page. An account with another
    handle keeps it; a handle someone else took is left to them."""
    made = False
    for account in BEATMAKERS:
        user = user_of(account)
        if user.handle is not None or not profiles.handle_availability(account.handle, user)["available"]:
            continue
        profile = profiles.profile_of(user)
        profiles.update_profile(user, handle=account.handle, display_name=user.display_name, bio=profile.bio,
                                links=list(profile.links))
        made = True
    return made


def ensure_voice_tag(account: DemoAccount, folder: Path) -> bool:
    user = user_of(account)
    if voice_tags.voice_tag_for(user.id).tag_key is not None:
        return False
    tag = synth.write_wav(folder / "tag.wav", synth.producer_tag(account.tag_notes))
    voice_tags.upload_tag(user, tag)
    return True


def find_beat(demo_beat: DemoBeat) -> Beat | None:
    """The demo beat, leaving out a failed upload an earlier run set aside (archived, never
    published)."""
    owner = user_of(demo_beat.owner)
    set_aside = (Beat.status == BeatStatus.ARCHIVED) & Beat.published_at.is_(None)
    return db.session.scalar(select(Beat).where(Beat.owner_id == owner.id, Beat.title == demo_beat.title,
                                                ~set_aside)
                             .order_by(Beat.created_at).limit(1))


def ensure_beat(demo_beat: DemoBeat, folder: Path) -> bool:
    """Upload the beat (synthesized master, stems if any, cover), credit it and offer it under
    every default tier it can deliver. Its preview is rendered when the step is committed."""
    existing = find_beat(demo_beat)
    if existing is not None and existing.status == BeatStatus.FAILED:
        catalog.archive_beat(existing)  # set aside; uploaded again below
        existing = None
    if existing is not None:
        if existing.status == BeatStatus.PROCESSING:
            enqueue("catalog.render_preview", existing.id)  # an interrupted run left it unrendered
        return False
    owner = user_of(demo_beat.owner)
    master, stems, cover = _beat_files(demo_beat, folder)
    beat = uploads.accept_beat_upload(owner, {
        "title": demo_beat.title, "bpm": demo_beat.bpm, "key": demo_beat.key, "genre": demo_beat.genre,
        "mood": demo_beat.mood, "tags": list(demo_beat.tags), "description": demo_beat.description,
        "samples": "none"}, master, stems, cover)
    catalog.replace_credits(beat, [_credit_document(credit) for credit in demo_beat.credits])
    offers.replace_offers(beat, owner, [
        {"tier_id": tier.id, "price": {"amount": tier.default_price_amount, "currency": tier.currency}}
        for tier in tiers.list_tiers(owner) if demo_beat.with_stems or not tier.includes_stems])
    return True


def _beat_files(demo_beat: DemoBeat, folder: Path) -> tuple[Path, Path | None, Path]:
    parts = synth.compose(demo_beat.key, demo_beat.bpm, demo_beat.genre)
    master = synth.write_wav(folder / "master.wav", parts.mix())
    stems = synth.write_stems_zip(folder / "stems.zip", parts, folder) if demo_beat.with_stems else None
    cover = write_cover_png(folder / "cover.png", *demo_beat.cover)
    return master, stems, cover


def _credit_document(credit: DemoCredit) -> dict[str, Any]:
    linked = isinstance(credit.who, DemoAccount)
    return {"name": credit.who.display_name if linked else credit.who,
            "user_id": user_of(credit.who).id if linked else None, "role": credit.role,
            "profit_share_bps": credit.profit_share_bps, "publishing_share_bps": credit.publishing_share_bps}


def ensure_promotions(_folder: Path) -> bool:
    owner = user_of(BEATMAKER)
    made = False
    if not any(coupon.code == COUPON["code"] for coupon in promotions.coupons_of(owner)):
        promotions.create_coupon(owner, COUPON)
        made = True
    if promotions.deal_of(owner) is None:
        promotions.set_deal(owner, DEAL["buy_count"], DEAL["free_count"])
        made = True
    return made


def ensure_report(demo_report: DemoReport, _folder: Path) -> bool:
    """File the report once: an admin who handled it does not see it come back, and a beat that
    left the store (taken down, archived) is not reported again."""
    beat = find_beat(next(beat for beat in DEMO_BEATS if beat.title == demo_report.beat_title))
    reporter = user_of(demo_report.reporter)
    if beat is None or beat.status not in PUBLIC_STATUSES:
        return False
    filed = db.session.scalar(select(Report.id).where(Report.beat_id == beat.id,
                                                      Report.reporter_id == reporter.id).limit(1))
    if filed is not None:
        return False
    reports.file_report(reporter, beat.id, demo_report.reason, demo_report.details)
    return True


def beats_out_of_the_store() -> list[str]:
    """The demo beats a visitor will not find in the store, each with why, in words: a store
    that was used (an exclusive sold, a beat archived or taken down) is still a store to serve,
    so these are told, never refused."""
    notes = []
    for demo_beat in DEMO_BEATS:
        beat = find_beat(demo_beat)
        if beat is None:
            notes.append(f"{demo_beat.title}: missing")
        elif beat.status != BeatStatus.PUBLISHED:
            notes.append(f"{demo_beat.title}: {_why_not_listed(beat)}")
    return notes


def _why_not_listed(beat: Beat) -> str:
    reasons = {BeatStatus.SOLD_EXCLUSIVE: "its exclusive rights were sold",
               BeatStatus.ARCHIVED: "archived by its owner",
               BeatStatus.TAKEN_DOWN: "taken down by an admin",
               BeatStatus.PROCESSING: "its preview is still being made",
               BeatStatus.FAILED: "its preview could not be made"}
    reason = reasons[BeatStatus(beat.status)]
    return f"{reason} ({beat.failure_reason})" if beat.failure_reason else reason
