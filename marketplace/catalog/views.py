from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.api import document
from marketplace.catalog import search, services
from marketplace.catalog.documents import credits_document, full_beat_document
from marketplace.catalog.schemas import (BeatPageSchema, BeatSchema, BeatSearchArgs, BeatUpdateSchema,
                                         CreditListSchema, CreditSchema)
from marketplace.db import db

blp = Blueprint("catalog", __name__, description="Beats: browse, search, edit, credits")


@blp.get("/beats")
@blp.arguments(BeatSearchArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@blp.response(200, BeatPageSchema)
def list_beats(**args):
    """Search and browse published beats, one page at a time (follow `next_cursor`)."""
    page = search.search_beats(search.BeatQuery(**args))
    return document({"items": page.items, "next_cursor": page.next_cursor})


@blp.get("/beats/<beat_id>")
@blp.response(200, BeatSchema)
def get_beat(beat_id):
    """A beat. Owners and admins also see beats that are not public."""
    return document(full_beat_document(services.get_visible_beat(beat_id, optional_user())))


@blp.patch("/beats/<beat_id>")
@auth_required(Role.BEATMAKER)
@blp.arguments(BeatUpdateSchema)
@blp.response(200, BeatSchema)
def update_beat(changes, beat_id):
    """Edit a beat's metadata (owner only). Only the fields sent change."""
    beat = services.update_beat(services.get_owned_beat(beat_id, current_user()), changes)
    db.session.commit()
    return document(full_beat_document(beat))


@blp.delete("/beats/<beat_id>")
@auth_required(Role.BEATMAKER)
@blp.response(200, BeatSchema)
def archive_beat(beat_id):
    """Archive a beat (owner only): it leaves the store; licenses sold stay valid."""
    beat = services.archive_beat(services.get_owned_beat(beat_id, current_user()))
    db.session.commit()
    return document(full_beat_document(beat))


@blp.get("/beats/<beat_id>/credits")
@blp.response(200, CreditListSchema)
def get_credits(beat_id):
    """Who made the beat, with the rendered credit line."""
    return document(credits_document(services.get_visible_beat(beat_id, optional_user()).credits))


@blp.put("/beats/<beat_id>/credits")
@auth_required(Role.BEATMAKER)
@blp.arguments(CreditSchema(many=True))
@blp.response(200, CreditListSchema)
def replace_credits(credits, beat_id):
    """Replace the whole credit list (owner only)."""
    beat = services.replace_credits(services.get_owned_beat(beat_id, current_user()), credits)
    db.session.commit()
    return document(credits_document(beat.credits))
