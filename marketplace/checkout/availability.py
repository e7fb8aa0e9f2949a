"""Offers as buyers see them: an exclusive held by another buyer's checkout is not available
right now (leases stay available)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketplace.checkout.holds import held_families
from marketplace.licensing.offers import offer_documents


def offers_with_holds(beats: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    documents = offer_documents(beats)
    open_exclusives = [beat_id for beat_id, offers in documents.items()
                       if any(offer["kind"] == "exclusive" and offer["available"] for offer in offers)]
    if open_exclusives:
        for beat_id in held_families(open_exclusives):
            for offer in documents[beat_id]:
                if offer["kind"] == "exclusive":
                    offer["available"] = False
    return documents
