from __future__ import annotations

import marshmallow as ma

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors
from marketplace.stats import services
from marketplace.stats.periods import periods
from marketplace.stats.schemas import BeatmakerStatsArgs, BeatmakerStatsSchema, StatsArgs, StoreStatsSchema

blp = Blueprint("stats", __name__, description="Charts: plays, sales and earnings over time (UTC)")


@blp.get("/me/stats")
@auth_required(Role.BEATMAKER)
@blp.arguments(BeatmakerStatsArgs, location="query", unknown=ma.RAISE)
@blp.response(200, BeatmakerStatsSchema)
@document_errors(404, 422)
def beatmaker_stats(args):
    """Your plays, sales, earnings and refunds per day or week (UTC), every period listed even
    when quiet, with totals, sales per play and your top beats in the range."""
    return services.beatmaker_stats(current_user().id, periods(args["interval"], args["from_"], args["to"]),
                                    args["beat_id"])


@blp.get("/admin/stats")
@auth_required(Role.ADMIN)
@blp.arguments(StatsArgs, location="query", unknown=ma.RAISE)
@blp.response(200, StoreStatsSchema)
@document_errors(422)
def store_stats(args):
    """The store's sales, platform fees, refunds and disputes per day or week (UTC), from the
    ledger, every period listed even when quiet, with totals."""
    return services.store_stats(periods(args["interval"], args["from_"], args["to"]))
