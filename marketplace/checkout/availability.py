"""Offers as buyers see them: an exclusive held by another buyer's checkout is not available
right now (leases stay available)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, exists, func

from marketplace.catalog.models import Beat
from marketplace.checkout.holds import HOLD_GRACE
from marketplace.checkout.models import ExclusiveHold
from marketplace.common.clock import utcnow
from marketplace.db import UTCDateTime
from marketplace.licensing.offers import (
    offer_documents,
    offers_aggregate,
    offers_from_aggregate,
    offers_json,
    withhold_exclusives,
)


def _holds_live_since() -> dt.datetime:
    return utcnow() - HOLD_GRACE


def family_held() -> ColumnElement[bool]:
    """SQL: the exclusive of the enclosing query's beat is held by an open checkout. Holds
    are taken on a family's original, so a version shows its original's. The time is read each time the statement runs, so a statement
    built once stays right."""
    live_since = bindparam("holds_live_since", callable_=_holds_live_since, type_=UTCDateTime())
    return exists().where(ExclusiveHold.beat_id == func.coalesce(Beat.version_of_id, Beat.id),
                          ExclusiveHold.released_at.is_(None), ExclusiveHold.expires_at > live_since
                          ).correlate(Beat)


class OffersWithHolds:
    """The catalogue's source of offers (app.extensions["beat_offers"]): for some beats, or
    as columns of a listing's own query: the offers, and apart from them whether a checkout
    holds the exclusive now, so listings can keep the offers between requests and read the
    holds, which come and go with time, fresh."""

    def __call__(self, beats: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
        return offer_documents(beats, withheld=family_held())

    def column(self, postgres: bool) -> ScalarSelect[Any]:
        return offers_aggregate(postgres)

    def documents(self, beat: Any, aggregate: Any) -> list[dict[str, Any]]:
        return offers_from_aggregate(beat, aggregate)

    def held_column(self) -> ColumnElement[bool]:
        return family_held()

    def json_column(self, held: ColumnElement[bool]) -> ScalarSelect[Any]:
        return offers_json(held)

    def withhold(self, offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return withhold_exclusives(offers)


offers_with_holds = OffersWithHolds()
