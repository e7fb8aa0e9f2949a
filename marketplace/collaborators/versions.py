"""Split sheet versions: every state of a beat's credits and shares, kept for good.

Sales follow the version in force. A change of the credits makes a new version; it comes into
force at once unless it changes the shares of a collaborator who accepted a credit on the beat
(their profit or publishing share, added up over their credits): then it waits, `proposed`,
until each of them accepts it, and the previous version keeps applying to sales. A later change
withdraws a proposal nobody finished accepting. A pending invitee is not asked: their share is
held meanwhile, and what they accept is the invitation.

Entries name a collaborator by their invitation (whose state says who is paid at each sale) or,
for the owner's own credits, by the account; a name-only credit names nobody.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.catalog.credits import ROLE_LABELS
from marketplace.catalog.models import Beat, BeatCredit
from marketplace.collaborators.models import (
    CreditInvitation,
    InvitationStatus,
    SplitAcceptance,
    SplitVersion,
    SplitVersionStatus,
)
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, PermissionDenied

ENTRY_FIELDS = ("name", "role", "profit_share_bps", "publishing_share_bps", "master_points_bps", "pro", "ipi",
                "user_id", "invitation_id")


def entry_of(credit: BeatCredit) -> dict[str, Any]:
    """A credit as a split sheet entry. A collaborator is named by their invitation, so their
    accepting changes no entry."""
    return {"name": credit.name, "role": credit.role, "profit_share_bps": credit.profit_share_bps,
            "publishing_share_bps": credit.publishing_share_bps, "master_points_bps": credit.master_points_bps,
            "pro": credit.pro, "ipi": credit.ipi,
            "user_id": credit.user_id if credit.invitation_id is None else None,
            "invitation_id": credit.invitation_id}


def content_hash(beat_id: str, number: int, entries: list[dict[str, Any]]) -> str:
    """SHA-256 of the version's canonical JSON: keys sorted, no spaces, UTF-8 as typed."""
    canonical = json.dumps({"beat_id": beat_id, "version": number,
                            "entries": [{field: entry.get(field) for field in ENTRY_FIELDS} for entry in entries]},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def in_force(beat_id: str) -> SplitVersion | None:
    return db.session.scalar(select(SplitVersion).where(SplitVersion.beat_id == beat_id,
                                                        SplitVersion.status == SplitVersionStatus.IN_FORCE))


def latest(beat_id: str) -> SplitVersion | None:
    return db.session.scalar(select(SplitVersion).where(SplitVersion.beat_id == beat_id)
                             .order_by(SplitVersion.number.desc()).limit(1))


def versions_of(beat_id: str) -> list[SplitVersion]:
    return list(db.session.scalars(select(SplitVersion).where(SplitVersion.beat_id == beat_id)
                                   .order_by(SplitVersion.number.desc())))


def lock_beat(beat: Beat) -> None:
    """Changes of one beat's credits happen one at a time (version numbers, invitations)."""
    db.session.execute(select(Beat.id).where(Beat.id == beat.id).with_for_update())


def start_split_sheet(beat: Beat, actor_id: str | None) -> SplitVersion:
    """Version 1, in force, from the credits as they stand (a new beat, or one credited before
    split sheets existed)."""
    existing = latest(beat.id)
    if existing is not None:
        return existing
    entries = [entry_of(credit) for credit in beat.credits]
    version = SplitVersion(beat_id=beat.id, number=1, status=SplitVersionStatus.IN_FORCE, entries=entries,
                           content_hash=content_hash(beat.id, 1, entries), created_by_id=actor_id,
                           in_force_at=utcnow())
    if actor_id is not None:
        version.acceptances = [SplitAcceptance(user_id=actor_id, name=_name(actor_id), accepted_at=utcnow())]
    db.session.add(version)
    db.session.flush()
    return version


def record_change(beat: Beat, actor: User, *, agreed: bool = False) -> SplitVersion:
    """A new version from the beat's credits as they now are (none when nothing changed). It is
    in force at once, or proposed to the collaborators whose shares it changes; `agreed` (an
    operator's seeding, where everyone named agreed beforehand) puts it in force at once."""
    entries = [entry_of(credit) for credit in beat.credits]
    last = latest(beat.id)
    if last is not None and _same_entries(last.entries, entries):
        return last
    current = in_force(beat.id)
    awaited = [] if agreed else _changed_collaborators(current.entries if current else [], entries, beat.owner_id)
    for proposal in db.session.scalars(select(SplitVersion).where(
            SplitVersion.beat_id == beat.id, SplitVersion.status == SplitVersionStatus.PROPOSED)):
        proposal.status, proposal.ended_at = SplitVersionStatus.WITHDRAWN, utcnow()
    number = (last.number if last else 0) + 1
    version = SplitVersion(beat_id=beat.id, number=number, status=SplitVersionStatus.PROPOSED, entries=entries,
                           content_hash=content_hash(beat.id, number, entries), created_by_id=actor.id)
    now = utcnow()
    version.acceptances = [SplitAcceptance(user_id=actor.id, name=actor.display_name, accepted_at=now)]
    version.acceptances += [SplitAcceptance(user_id=user_id, name=_name(user_id)) for user_id in awaited
                            if user_id != actor.id]
    db.session.add(version)
    db.session.flush()
    if not awaited:
        _bring_into_force(version)
    return version


def _same_entries(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    return [{f: e.get(f) for f in ENTRY_FIELDS} for e in old] == [{f: e.get(f) for f in ENTRY_FIELDS} for e in new]


def _name(user_id: str) -> str:
    user = db.session.get(User, user_id)
    return user.display_name if user is not None else ""


def party_of(entry: Mapping[str, Any], invitations: Mapping[str, CreditInvitation]) -> str | None:
    """The account an entry names once consent is given: the owner's own, or the account that
    accepted its invitation. None for a name, or a pending or refused invitation."""
    if entry.get("invitation_id"):
        invitation = invitations.get(entry["invitation_id"])
        if invitation is not None and invitation.status == InvitationStatus.ACCEPTED:
            return invitation.accepted_by_id
        return None
    return entry.get("user_id")


def invitations_named(entries: Iterable[Mapping[str, Any]]) -> dict[str, CreditInvitation]:
    ids = {entry["invitation_id"] for entry in entries if entry.get("invitation_id")}
    if not ids:
        return {}
    return {invitation.id: invitation for invitation in db.session.scalars(
        select(CreditInvitation).where(CreditInvitation.id.in_(ids)))}


def shares_by_party(entries: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(profit, publishing) basis points of each account that consented, over its entries."""
    invitations = invitations_named(entries)
    shares: dict[str, tuple[int, int]] = {}
    for entry in entries:
        party = party_of(entry, invitations)
        if party is None:
            continue
        profit, publishing = shares.get(party, (0, 0))
        shares[party] = (profit + (entry.get("profit_share_bps") or 0),
                         publishing + (entry.get("publishing_share_bps") or 0))
    return shares


def _changed_collaborators(before: list[dict[str, Any]], after: list[dict[str, Any]], owner_id: str) -> list[str]:
    """Collaborators (not the owner) who consented and whose shares differ between the two."""
    old, new = shares_by_party(before), shares_by_party(after)
    return sorted(party for party in set(old) | set(new)
                  if party != owner_id and old.get(party, (0, 0)) != new.get(party, (0, 0)))


def _bring_into_force(version: SplitVersion) -> None:
    now = utcnow()
    current = in_force(version.beat_id)
    if current is not None and current.id != version.id:
        current.status, current.ended_at = SplitVersionStatus.SUPERSEDED, now
        db.session.flush()  # before the new one takes the one-in-force index
    version.status, version.in_force_at = SplitVersionStatus.IN_FORCE, now
    db.session.flush()


def get_version(beat_id: str, number: int) -> SplitVersion:
    version = db.session.scalar(select(SplitVersion).where(SplitVersion.beat_id == beat_id,
                                                           SplitVersion.number == number))
    if version is None:
        raise NotFound(f"This beat has no split sheet version {number}.", code="split_version_not_found")
    return version


def accept_version(version: SplitVersion, user: User) -> SplitVersion:
    """A collaborator accepts a proposed change of their share; the last awaited acceptance
    brings it into force."""
    if version.status != SplitVersionStatus.PROPOSED:
        raise Conflict(f"Version {version.number} is {version.status.replace('_', ' ')}: "
                       "only a proposed version can be accepted.", code="split_version_not_proposed")
    mine = next((a for a in version.acceptances if a.user_id == user.id), None)
    if mine is None:
        raise PermissionDenied("Your acceptance is not asked for on this version.", code="acceptance_not_asked")
    if mine.accepted_at is None:
        mine.accepted_at = utcnow()
    db.session.flush()
    if all(a.accepted_at is not None for a in version.acceptances):
        _bring_into_force(version)
    return version


def note_acceptance(beat_id: str, user: User) -> None:
    """An invitee accepted: their acceptance is written on the latest version (and on the one in
    force when that is another)."""
    for version in {v.id: v for v in (latest(beat_id), in_force(beat_id)) if v is not None}.values():
        mine = next((a for a in version.acceptances if a.user_id == user.id), None)
        if mine is None:
            version.acceptances.append(SplitAcceptance(user_id=user.id, name=user.display_name,
                                                       accepted_at=utcnow()))
        elif mine.accepted_at is None:
            mine.accepted_at = utcnow()
    db.session.flush()


def frozen_credits(beat: Beat) -> list[dict[str, Any]]:
    """The credits a sale freezes: those of the version in force, each with who consented as
    it stands (the sale's split is decided again by the invitations' state when it is paid).
    A beat credited before split sheets existed freezes its credits as they are."""
    version = in_force(beat.id)
    if version is None:
        return [{"name": c.name, "user_id": c.user_id, "role": c.role, "role_label": ROLE_LABELS[c.role],
                 "profit_share_bps": c.profit_share_bps, "publishing_share_bps": c.publishing_share_bps,
                 "master_points_bps": c.master_points_bps, "status": c.status} for c in beat.credits]
    invitations = invitations_named(version.entries)
    frozen = []
    for entry in version.entries:
        invitation = invitations.get(entry.get("invitation_id") or "")
        status = invitation.status if invitation is not None else ("accepted" if entry.get("user_id")
                                                                   else "name_only")
        frozen.append({
            "name": entry["name"], "user_id": party_of(entry, invitations), "role": entry["role"],
            "role_label": ROLE_LABELS[entry["role"]], "profit_share_bps": entry.get("profit_share_bps"),
            "publishing_share_bps": entry.get("publishing_share_bps"),
            "master_points_bps": entry.get("master_points_bps"), "pro": entry.get("pro"), "ipi": entry.get("ipi"),
            "status": status, "invitation_id": entry.get("invitation_id"),
            "split_version_id": version.id, "split_version": version.number})
    return frozen
