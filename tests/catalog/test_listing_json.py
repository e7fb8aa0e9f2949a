"""On PostgreSQL a listing's documents are built by the database as JSON text and sent as they
are (documents.listed_beat_json). They must be exactly the documents the Python builder makes
of the same beats: every field, for beats that use every field."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete

from marketplace.accounts.models import Role, User
from marketplace.catalog import search
from marketplace.catalog.models import Beat, BeatCredit
from marketplace.collaborators.models import CreditInvitation
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.catalog.test_listing_cache import open_checkout_holding
from tests.catalog.test_search import count_queries
from tests.conftest import postgres_only
from tests.licensing.conftest import offer_all, seller, tiers_of  # noqa: F401

pytestmark = postgres_only("only PostgreSQL builds listings' JSON itself")

EVERY_KIND_OF_CREDIT = [
    # (name, role, status, linked, shares and split sheet fields)
    ("Metro", "producer", "accepted", "owner", {"profit_share_bps": 6000, "pro": "ASCAP", "ipi": "00012345678"}),
    ("Wheezy", "producer", "pending", None, {"profit_share_bps": 2500, "publishing_share_bps": 1500}),
    ("Zay", "co_producer", "name_only", None, {"profit_share_bps": 1500, "master_points_bps": 300}),
    ("Metro", "co_producer", "declined", None, {}),
    ("Ann \"Mix\" O'Neil", "mix_engineer", "expired", None, {}),
    ("Guest", "songwriter", "accepted", "guest", {}),
    ("Gone", "composer", "accepted", "inactive", {}),
]
NO_PRODUCTION_ROLE = [("Sam", "songwriter"), ("Kim", "mix_engineer"), ("Lou", "songwriter"),
                      ("Ray", "songwriter"), ("Sam", "mastering_engineer")]


def set_credits(beat_id, credits, accounts, invitation_id):
    db.session.execute(delete(BeatCredit).where(BeatCredit.beat_id == beat_id))
    for position, (name, role, status, linked, fields) in enumerate(credits):
        db.session.add(BeatCredit(beat_id=beat_id, position=position, name=name, role=role, status=status,
                                  user_id=accounts.get(linked),
                                  invitation_id=invitation_id if status == "pending" else None, **fields))


@pytest.fixture
def varied_catalogue(app, make_user, make_beat, seller, offer_all):  # noqa: F811
    """Beats that between them use every field of a listed document."""
    seller_id, headers = seller
    guest = make_user(Role.BEATMAKER, "Guest")
    inactive = make_user(Role.BEATMAKER, "Gone")
    plain = make_beat(seller_id, title="Plain", price=1999)
    rich = make_beat(seller_id, title="Rich \"quoted\" été 🌙", tags=["dark", "nuit d'été 🌙", "808"],
                     description="Line one\nline two\t\"quoted\" \\ back", genre="Trap", mood="Dark",
                     key="F#m", bpm=143, price=2999)
    version = make_beat(seller_id, title="Rich (slowed)", version_of=rich, price=2499)
    uncleared = make_beat(seller_id, title="Sampled", price=3999)
    nameless = make_beat(seller_id, title="No credits", price=4999)
    engineers = make_beat(seller_id, title="Engineers only", price=5999)
    with app.app_context():  # every tier can be offered: a lossless master and stems
        for beat_id in (plain, rich, version, uncleared, nameless, engineers):
            beat = db.session.get(Beat, beat_id)
            beat.master_lossless, beat.stems_key = True, f"stems/{beat_id}.zip"
        db.session.commit()
    for beat_id in (plain, rich, version, uncleared, engineers):
        offer_all(headers, beat_id)
    offer_all(headers, nameless, names={"Basic lease"})
    with app.app_context():
        db.session.get(User, seller_id).handle = "metro"
        db.session.get(User, guest).handle = "guest_maker"
        inactive_user = db.session.get(User, inactive)
        inactive_user.handle, inactive_user.status = "gone_maker", "suspended"
        invitation = CreditInvitation(beat_id=rich, invited_by_id=seller_id, name="Wheezy", role="producer",
                                      email="wheezy@example.com", email_key="wheezy@example.com",
                                      expires_at=utcnow() + dt.timedelta(days=30))
        db.session.add(invitation)
        db.session.flush()
        accounts = {"owner": seller_id, "guest": guest, "inactive": inactive}
        set_credits(rich, EVERY_KIND_OF_CREDIT, accounts, invitation.id)
        set_credits(engineers, [(name, role, "name_only", None, {}) for name, role in NO_PRODUCTION_ROLE],
                    accounts, None)
        set_credits(nameless, [], accounts, None)
        beat = db.session.get(Beat, rich)
        beat.cover_key, beat.waveform_key = "covers/x/1400.jpg", "waveforms/x.json"
        beat.preview_version, beat.free_download = 3, True
        db.session.get(Beat, uncleared).samples = "uncleared"  # declared after its exclusive was offered
        db.session.get(Beat, nameless).master_lossless, db.session.get(Beat, nameless).stems_key = False, None
        beat.duration_ms, beat.play_count = 183_456, 42
        beat.published_at = dt.datetime(2026, 5, 1, 12, 30, 0, 123456, tzinfo=dt.timezone.utc)
        beat.created_at = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)  # no microseconds
        db.session.get(Beat, plain).sold_exclusive_at = dt.datetime(2026, 6, 2, 8, 0, 1, 5, tzinfo=dt.timezone.utc)
        # An open checkout holds the exclusive of `rich`'s family, its version with it.
        open_checkout_holding(rich, make_user(Role.ARTIST))
        db.session.commit()
    return [plain, rich, version, uncleared, nameless, engineers]


QUERIES = [
    {}, {"limit": 100}, {"limit": 2}, {"sort": "price_desc"}, {"sort": "popular", "limit": 3},
    {"tag": "dark"}, {"q": "metro"}, {"genre": "trap", "bpm_min": 140}, {"sort": "bpm", "limit": 1},
]


def test_the_database_builds_every_field_as_the_python_builder_does(app, varied_catalogue):
    with app.app_context():
        for arguments in QUERIES:
            query = search.BeatQuery(**arguments)
            page = search.search_beats(query)
            built = json.loads(search.listing_json(query))
            assert built == {"items": page.items, "next_cursor": page.next_cursor}, arguments
            if page.next_cursor:  # and the next page, after the cursor
                after = search.BeatQuery(**arguments, cursor=page.next_cursor)
                page = search.search_beats(after)
                assert json.loads(search.listing_json(after)) == {"items": page.items,
                                                                  "next_cursor": page.next_cursor}
        everything = json.loads(search.listing_json(search.BeatQuery(limit=100)))["items"]
    assert {item["id"] for item in everything} == set(varied_catalogue)
    by_title = {item["title"]: item for item in everything}
    rich = by_title["Rich \"quoted\" été 🌙"]
    assert rich["credit_line"] == "Prod. by Metro & Wheezy, co-prod. by Zay & Metro"
    assert [credit["paid_to"] for credit in rich["credits"]] == ["account", "held", "owner", "owner", "owner",
                                                                  "account", "account"]
    assert [credit["handle"] for credit in rich["credits"]][-2:] == ["guest_maker", None]
    assert {offer["kind"]: offer["available"] for offer in rich["offers"]} == {"lease": True, "exclusive": False}
    assert (rich["published_at"], rich["created_at"]) == ("2026-05-01T12:30:00.123456+00:00",
                                                          "2026-05-01T12:00:00+00:00")
    assert by_title["Engineers only"]["credit_line"] == "Written by Sam, Lou & Ray, mixed by Kim, mastered by Sam"
    assert (by_title["No credits"]["credits"], by_title["No credits"]["credit_line"]) == ([], "")


def test_a_listing_is_one_statement_at_any_page_size(app, client, varied_catalogue):
    for query in ("", "&tag=dark", "&q=rich&sort=price_asc"):
        assert count_queries(app, client, f"/api/v1/beats?limit=10{query}") == 1
        assert count_queries(app, client, f"/api/v1/beats?limit=100{query}") == 1
