"""What lets the catalogue list a million beats fast: each beat's tags kept beside it (an
array the tag filter reads on PostgreSQL), and a constant number of queries per listing."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog import services
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.licensing.models import Offer
from tests.catalog.test_search import FIRST_LISTING, count_queries
from tests.conftest import make_test_app
from tests.licensing.conftest import seller, tiers_of  # noqa: F401


def stored_tags(app, beat_id: str) -> list[str]:
    with app.app_context():
        return db.session.execute(select(Beat.tag_list).where(Beat.id == beat_id)).scalar_one()


def tagged(client, tag: str) -> list[str]:
    response = client.get("/api/v1/beats", query_string={"tag": tag})
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_a_beats_tags_are_kept_beside_it_in_order_through_every_edit(app, client, make_user, make_beat):
    owner = make_user(Role.BEATMAKER)
    beat = make_beat(owner, tags=["Dark", "trap", "Nuit d'été 🌙"])
    other = make_beat(owner, tags=["trap"])
    assert stored_tags(app, beat) == ["dark", "trap", "nuit d'été 🌙"]
    assert tagged(client, "trap") == [other, beat]
    assert tagged(client, "nuit d'été 🌙") == [beat]
    with app.app_context():
        services.update_beat(services.get_beat(beat), {"tags": ["chill", "Dark"]})
        db.session.commit()
    assert stored_tags(app, beat) == ["chill", "dark"]
    assert tagged(client, "trap") == [other]
    assert tagged(client, "chill") == [beat]
    assert client.get(f"/api/v1/beats/{beat}").json["tags"] == ["chill", "dark"]
    with app.app_context():
        services.update_beat(services.get_beat(beat), {"tags": []})
        db.session.commit()
    assert stored_tags(app, beat) == []
    assert tagged(client, "chill") == []


def test_a_listing_takes_the_same_queries_at_any_page_size_with_tags_and_offers(app, make_beat,  # noqa: F811
                                                                                 seller, tiers_of):  # noqa: F811
    """With no document kept between requests (the listing cache off), a page of 10 and a
    page of 100 beats, each with tags and offers, cost the same statements: on PostgreSQL one
    (the page with its documents), elsewhere two (the page, then all its beats' documents)."""
    seller_id, headers = seller
    tiers = list(tiers_of(headers).values())[:2]
    beats = [make_beat(seller_id, tags=["velvet", f"t{index}"], price=2000 + index) for index in range(101)]
    with app.app_context():
        for beat_id in beats:
            for position, tier in enumerate(tiers):
                db.session.add(Offer(beat_id=beat_id, tier_id=tier["id"], position=position,
                                     price_amount=2000 * (position + 1), currency="usd"))
        db.session.commit()
    uncached = make_test_app(app.config["DATABASE_URL"], LISTING_CACHE_BEATS=0)
    client = uncached.test_client()
    for query in ("tag=velvet&sort=price_asc", "sort=price_asc"):
        small = count_queries(uncached, client, f"/api/v1/beats?limit=10&{query}")
        large = count_queries(uncached, client, f"/api/v1/beats?limit=100&{query}")
        assert small == large == FIRST_LISTING, query
    items = client.get("/api/v1/beats?limit=100&tag=velvet&sort=price_asc").json["items"]
    assert [item["id"] for item in items] == beats[:100]
    assert all(len(item["offers"]) == len(tiers) and item["tags"][0] == "velvet" for item in items)
