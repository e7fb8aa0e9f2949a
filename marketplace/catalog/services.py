"""Catalogue rules: creating and editing beats, credits, visibility. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import lazyload

from marketplace.accounts.models import Role, User
from marketplace.catalog import lifecycle
from marketplace.catalog.credits import CreditInput, CreditRole, CreditRuleBroken, CreditStatus, check_credit_rules
from marketplace.catalog.keys import UnknownKey, normalise_key
from marketplace.catalog.labels import normalise_label
from marketplace.catalog.lifecycle import PUBLIC_STATUSES, BeatStatus
from marketplace.catalog.models import Beat, BeatCredit, BeatDailyPlays, BeatTag
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_TAGS = 15
TAG_MAX_LENGTH = 30
LABEL_MAX_LENGTH = 40

EDITABLE_FIELDS = ("title", "description", "bpm", "key", "genre", "mood", "tags", "samples",
                   "version_of", "free_download")


def normalise_tags(tags: Iterable[str]) -> list[str]:
    cleaned = [tag for tag in (normalise_label(raw) for raw in tags) if tag]
    unique = list(dict.fromkeys(cleaned))
    if len(unique) > MAX_TAGS:
        raise ValidationFailed(details={"tags": [f"At most {MAX_TAGS} tags."]})
    too_long = [tag for tag in unique if len(tag) > TAG_MAX_LENGTH]
    if too_long:
        raise ValidationFailed(details={"tags": [f"Tags are at most {TAG_MAX_LENGTH} characters."]})
    return unique


def canonical_key(spelling: str | None) -> str | None:
    if spelling is None or not spelling.strip():
        return None
    try:
        return normalise_key(spelling)
    except UnknownKey:
        raise ValidationFailed(details={"key": [
            f"{spelling!r} is not a musical key. Try forms like 'F#m', 'F sharp minor' or 'Bb'."]}) from None


# -- reading -------------------------------------------------------------------------------

def get_beat(beat_id: str, *options: Any) -> Beat:
    beat = db.session.get(Beat, beat_id, options=options)
    if beat is None:
        raise NotFound("No such beat.", code="beat_not_found")
    return beat


def can_see(beat: Beat, viewer: User | None) -> bool:
    if beat.status in PUBLIC_STATUSES and beat.owner.is_active:
        return True
    return viewer is not None and (viewer.id == beat.owner_id or viewer.has_role(Role.ADMIN))


def get_visible_beat(beat_id: str, viewer: User | None, *options: Any) -> Beat:
    """The beat if `viewer` may see it; otherwise the same 404 as for a beat that never existed."""
    beat = get_beat(beat_id, *options)
    if not can_see(beat, viewer):
        raise NotFound("No such beat.", code="beat_not_found")
    return beat


def get_streamable_beat(beat_id: str, viewer: User | None) -> Beat:
    """A beat whose preview may be played: published (a takedown or an exclusive sale stops
    previews at once), or any beat for its owner and admins. Its credits and tags are read only
    if asked for: a player asks for neither, and it asks for every beat it plays."""
    beat = get_visible_beat(beat_id, viewer, lazyload(Beat.credits), lazyload(Beat.tag_rows))
    privileged = viewer is not None and (viewer.id == beat.owner_id or viewer.has_role(Role.ADMIN))
    if beat.status != BeatStatus.PUBLISHED and not privileged:
        raise NotFound("No such beat.", code="beat_not_found")
    return beat


def get_owned_beat(beat_id: str, user: User) -> Beat:
    beat = get_visible_beat(beat_id, user)
    if beat.owner_id != user.id:
        raise PermissionDenied("Only the beat's owner can change it.", code="not_beat_owner")
    return beat


def beats_of(owner: User, limit: int) -> Sequence[Beat]:
    """The owner's beats in every status, newest first: what a studio lists."""
    return db.session.scalars(select(Beat).where(Beat.owner_id == owner.id)
                              .order_by(Beat.created_at.desc(), Beat.id.desc()).limit(limit)).all()


# -- writing -------------------------------------------------------------------------------

def create_beat(owner: User, *, title: str, bpm: int, key: str | None = None,
                genre: str | None = None, mood: str | None = None, tags: Sequence[str] = (),
                description: str = "", samples: str = "none", version_of: str | None = None) -> Beat:
    """A new beat in `processing`, credited to its owner as producer with the whole profit share."""
    if not owner.has_role(Role.BEATMAKER):
        raise PermissionDenied("Only beatmaker accounts can upload beats.", code="role_required")
    beat = Beat(owner=owner, owner_id=owner.id, status=BeatStatus.PROCESSING, title=title.strip(),
                bpm=bpm, description=description, samples=samples)
    db.session.add(beat)
    _apply_changes(beat, {"key": key, "genre": genre, "mood": mood, "tags": tags,
                          "version_of": version_of})
    beat.credits = [BeatCredit(position=0, name=owner.display_name, user_id=owner.id, status=CreditStatus.ACCEPTED,
                               role=CreditRole.PRODUCER, profit_share_bps=10_000)]
    refresh_search_document(beat)
    db.session.flush()
    # Its split sheet starts here: version 1, the owner with the whole share.
    from marketplace.collaborators.versions import start_split_sheet  # collaborators builds on the catalogue

    start_split_sheet(beat, owner.id)
    return beat


def update_beat(beat: Beat, changes: Mapping[str, Any]) -> Beat:
    """Apply metadata `changes` (only the fields given), and an un-archive when asked."""
    status = changes.get("status")
    republish = status is not None and status != beat.status
    if republish and (status != BeatStatus.PUBLISHED or beat.status != BeatStatus.ARCHIVED):
        raise ValidationFailed(details={"status": [
            "Owners can only publish an archived beat again; use DELETE to archive."]})
    if republish and beat.preview_key is None:
        raise ValidationFailed(details={"status": [
            "This beat has no preview (it was never processed): upload it again."]})
    _apply_changes(beat, {k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    if republish:
        lifecycle.move(beat, BeatStatus.PUBLISHED)
    refresh_search_document(beat)
    db.session.flush()
    return beat


def archive_beat(beat: Beat) -> Beat:
    if beat.status == BeatStatus.TAKEN_DOWN:
        # Archiving and publishing again would bring it back: only moderation restores it.
        raise Conflict("This beat is held out of the store by moderation; it cannot be archived.",
                       code="beat_taken_down")
    lifecycle.move(beat, BeatStatus.ARCHIVED)
    # Checkouts of the beat end with it: plugged in by the app, as checkout builds on catalogue.
    leaving = current_app.extensions.get("beat_leaving_store")
    if leaving is not None:
        leaving(beat)
    db.session.flush()
    return beat


def _apply_changes(beat: Beat, changes: Mapping[str, Any]) -> None:
    for field, value in changes.items():
        if field == "key":
            beat.musical_key = canonical_key(value)
        elif field in ("genre", "mood"):
            label = normalise_label(value)
            if label is not None and len(label) > LABEL_MAX_LENGTH:  # lower case can be longer
                raise ValidationFailed(details={field: [f"At most {LABEL_MAX_LENGTH} characters."]})
            setattr(beat, field, label)
        elif field == "tags":
            tags = normalise_tags(value or [])
            _replace_children(beat, "tag_rows", [BeatTag(tag=tag, position=index) for index, tag in enumerate(tags)])
            beat.tag_list = list(tags)
        elif field == "version_of":
            beat.version_of_id = _check_version_of(beat, value)
        elif field == "title":
            beat.title = value.strip()
        else:
            setattr(beat, field, value)


def _replace_children(beat: Beat, relationship: str, rows: list[Any]) -> None:
    """Swap a child list. The old rows are deleted first: the unit of work would otherwise
    insert the new ones before deleting the old, and trip their unique keys."""
    setattr(beat, relationship, [])
    db.session.flush()
    setattr(beat, relationship, rows)


def _check_version_of(beat: Beat, original_id: str | None) -> str | None:
    """An alternate version points at an original of the same owner, one level deep."""
    if original_id is None:
        return None
    original = db.session.get(Beat, original_id)
    problem = None
    if original is None or original.owner_id != beat.owner_id:
        problem = "No beat of yours has this id."
    elif original.id == beat.id:
        problem = "A beat cannot be a version of itself."
    elif original.version_of_id is not None:
        problem = "That beat is itself a version; point at its original instead."
    elif beat.id is not None and _has_versions(beat):
        problem = "This beat has versions of its own, so it cannot become a version."
    elif family_sold_exclusively(original):
        problem = "The exclusive rights of that beat were sold: it can have no new versions."
    if problem:
        raise ValidationFailed(details={"version_of": [problem]})
    return original.id


def family_sold_exclusively(beat: Beat) -> bool:
    """Whether the exclusive rights of this beat, its original or any version were sold: an
    exclusive covers every version of the composition."""
    original_id = beat.version_of_id or beat.id
    return db.session.scalar(select(Beat.id).where(
        or_(Beat.id == original_id, Beat.version_of_id == original_id),
        Beat.sold_exclusive_at.is_not(None)).limit(1)) is not None


def _has_versions(beat: Beat) -> bool:
    return db.session.scalar(select(Beat.id).where(Beat.version_of_id == beat.id).limit(1)) is not None


def replace_credits(beat: Beat, credits: Sequence[Mapping[str, Any]]) -> Beat:
    """Replace the whole credit list, after checking every rule and every linked account, for an
    operator's seeding whose linked accounts agreed beforehand: it is in force on the split sheet
    at once. The API never comes here: people are credited by invitation and consent
    (collaborators.services.set_credits)."""
    from marketplace.collaborators.versions import record_change, start_split_sheet  # builds on the catalogue

    start_split_sheet(beat, beat.owner_id)
    inputs = [CreditInput(name=c["name"].strip(), role=CreditRole(c["role"]), user_id=c.get("user_id"),
                          profit_share_bps=c.get("profit_share_bps"),
                          publishing_share_bps=c.get("publishing_share_bps"),
                          master_points_bps=c.get("master_points_bps")) for c in credits]
    _check_linked_accounts(inputs)
    try:
        check_credit_rules(inputs, beat.owner_id)
    except CreditRuleBroken as broken:
        raise ValidationFailed(broken.message, details={broken.field: [broken.message]}) from None
    _replace_children(beat, "credits", [
        BeatCredit(position=index, name=c.name, user_id=c.user_id, role=c.role,
                   status=CreditStatus.ACCEPTED if c.user_id else CreditStatus.NAME_ONLY,
                   profit_share_bps=c.profit_share_bps, publishing_share_bps=c.publishing_share_bps,
                   master_points_bps=c.master_points_bps)
        for index, c in enumerate(inputs)])
    refresh_search_document(beat)
    db.session.flush()
    record_change(beat, beat.owner, agreed=True)
    return beat


def _check_linked_accounts(inputs: Sequence[CreditInput]) -> None:
    wanted = {c.user_id for c in inputs if c.user_id}
    if not wanted:
        return
    found = set(db.session.scalars(select(User.id).where(User.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed("A credit names an account that does not exist.",
                               details={"user_id": [f"No account has id {user_id}." for user_id in missing]})


def refresh_search_document(beat: Beat) -> None:
    """What text search matches: the title, the genre and mood, the tags and every credited
    name. Genre and mood are in it so a search for "trap" finds what the genre filter finds."""
    names = [credit.name for credit in beat.credits] + [beat.owner.display_name]
    labels = [label for label in (beat.genre, beat.mood) if label]
    beat.search_document = " ".join([beat.title, *labels, *beat.tags, *dict.fromkeys(names)])


def publish(beat: Beat) -> None:
    lifecycle.move(beat, BeatStatus.PUBLISHED)
    db.session.flush()


def publish_processed(beat: Beat) -> None:
    """A beat whose preview is ready goes into the store (as sold, when its original or a
    version was sold exclusively meanwhile), unless moderation holds it back: the publication
    gate, when plugged in, answers True after taking it out of the store itself."""
    to = BeatStatus.SOLD_EXCLUSIVE if family_sold_exclusively(beat) else BeatStatus.PUBLISHED
    gate = current_app.extensions.get("publication_gate")
    if gate is not None and gate(beat, to):
        return
    lifecycle.move(beat, BeatStatus.PUBLISHED)
    if to == BeatStatus.SOLD_EXCLUSIVE:
        lifecycle.move(beat, BeatStatus.SOLD_EXCLUSIVE)


def set_listing_price(beat: Beat, amount: int | None, currency: str | None) -> None:
    """Licensing tells the catalogue a beat's lowest active price (None when nothing is on sale)."""
    beat.price_from_amount = amount
    beat.price_currency = currency if amount is not None else None


def record_play(beat_id: str) -> None:
    """Counted in the database, so concurrent plays never overwrite each other: the beat's
    total, and its day's count (UTC), whose row the first play of the day creates."""
    db.session.execute(update(Beat).where(Beat.id == beat_id)
                       .values(play_count=Beat.play_count + 1))
    db.session.execute(daily_play_upsert(beat_id, utcnow().date()))


def daily_play_upsert(beat_id: str, day: dt.date) -> Any:
    """One statement that inserts the day's row or adds one to it (INSERT ... ON CONFLICT),
    so two first plays of a day at once never collide."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(BeatDailyPlays).values(beat_id=beat_id, day=day, plays=1)
    return statement.on_conflict_do_update(index_elements=[BeatDailyPlays.beat_id, BeatDailyPlays.day],
                                           set_={"plays": BeatDailyPlays.plays + 1})
