"""The periodic sweep that expires proposals, and the end of a beat's proposals when its
exclusive rights are sold."""

from __future__ import annotations

from marketplace.checkout.models import ItemStatus, Order
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.jobs.queue import job
from marketplace.licensing.models import TierKind
from marketplace.proposals import services

SWEEP_SECONDS = 300


@job("proposals.expire", every_seconds=SWEEP_SECONDS, kind="proposal expiry")
def expire_proposals() -> None:
    services.expire_due()
    db.session.commit()


def end_proposals_of_sold_exclusives(order: Order) -> None:
    """Checkout's ORDER_PAID, in the fulfilment's transaction: an exclusive sold ends every open
    proposal on its beat."""
    for item in order.items:
        if item.kind == TierKind.EXCLUSIVE and item.status == ItemStatus.LICENSED:
            beat = db.session.get(Beat, item.beat_id)
            services.end_on_beat(beat.version_of_id or beat.id, "exclusive_sold")

