"""Listings keep beats' documents between requests (catalog/listing_cache.py), under a
revision every change bumps. A listing must never show a beat otherwise than its own page
does: each change a listed document can see is made here, through the API where there is
one, and the listing is compared with the beat's page after it."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.catalog.listing_cache import ListedBeat, ListingCache
from marketplace.catalog.models import Beat
from marketplace.checkout.holds import release_holds, take_hold
from marketplace.checkout.models import Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.catalog.test_search import FIRST_LISTING, count_queries
from tests.conftest import ON_POSTGRES, make_test_app, postgres_only
from tests.licensing.conftest import masters, offer_all, seller, tiers_of, upload_beat  # noqa: F401


def listed(client, beat_id):
    """The beat as listed, or None when the listing does not show it."""
    response = client.get("/api/v1/beats?limit=100")
    assert response.status_code == 200, response.json
    return next((item for item in response.json["items"] if item["id"] == beat_id), None)


def fresh_listing(client, beat_id):
    """The beat as listed, checked to be exactly the beat as its own page shows it."""
    item = listed(client, beat_id)
    assert item is not None
    assert item == client.get(f"/api/v1/beats/{beat_id}").json
    return item


def revision(app, beat_id):
    with app.app_context():
        return db.session.get(Beat, beat_id).listing_revision


@pytest.fixture
def beat_on_sale(client, seller, upload_beat, offer_all):  # noqa: F811
    _seller_id, headers = seller
    beat_id = upload_beat(headers, title="Night Drive", tags="dark,808")
    tiers = offer_all(headers, beat_id)
    fresh_listing(client, beat_id)  # the listing now keeps its document
    return beat_id, headers, tiers


def test_edits_of_the_beat_its_credits_tags_and_offers_show_at_once(app, client, beat_on_sale):
    beat_id, headers, tiers = beat_on_sale

    def patch(body):
        response = client.patch(f"/api/v1/beats/{beat_id}", json=body, headers=headers)
        assert response.status_code == 200, response.json

    patch({"title": "Night Drive (remastered)"})
    assert fresh_listing(client, beat_id)["title"] == "Night Drive (remastered)"
    patch({"tags": ["cold", "drill"], "genre": "Drill", "bpm": 142})
    item = fresh_listing(client, beat_id)
    assert (item["tags"], item["genre"], item["bpm"]) == (["cold", "drill"], "drill", 142)

    credits = [{"name": "Metro", "user_id": beat_on_sale_owner(app, beat_id), "role": "producer",
                "profit_share_bps": 7000},
               {"name": "Wheezy", "role": "co_producer", "profit_share_bps": 3000}]
    response = client.put(f"/api/v1/beats/{beat_id}/credits", json=credits, headers=headers)
    assert response.status_code == 200, response.json
    assert fresh_listing(client, beat_id)["credit_line"] == "Prod. by Metro, co-prod. by Wheezy"

    basic = tiers["Basic lease"]
    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                          json=[{"tier_id": basic["id"], "price": {"amount": 1234, "currency": "usd"}}])
    assert response.status_code == 200, response.json
    item = fresh_listing(client, beat_id)
    assert [offer["name"] for offer in item["offers"]] == ["Basic lease"]
    assert item["price_from"] == {"amount": 1234, "currency": "usd"}


def open_checkout_holding(beat_id: str, buyer_id: str) -> str:
    """An open checkout of the buyer holding the beat's exclusive (with its family), flushed;
    its order id."""
    order = Order(buyer_id=buyer_id, currency="usd", subtotal_amount=1, total_amount=1,
                  expires_at=utcnow() + dt.timedelta(minutes=30))
    db.session.add(order)
    db.session.flush()
    take_hold(beat_id, order.id, order.expires_at)
    return order.id


def beat_on_sale_owner(app, beat_id):
    with app.app_context():
        return db.session.get(Beat, beat_id).owner_id


def test_a_tier_edit_shows_on_every_beat_offered_under_it(app, client, beat_on_sale, upload_beat):  # noqa: F811
    beat_id, headers, tiers = beat_on_sale
    other = upload_beat(headers, title="Day Ride", stems=False)
    basic = tiers["Basic lease"]
    response = client.put(f"/api/v1/beats/{other}/offers", headers=headers,
                          json=[{"tier_id": basic["id"], "price": basic["default_price"]}])
    assert response.status_code == 200, response.json
    fresh_listing(client, other)

    response = client.patch(f"/api/v1/license-tiers/{basic['id']}", headers=headers, json={
        "name": "Starter lease", "limits": {"audio_streams": 75000}, "term_years": 3})
    assert response.status_code == 200, response.json
    for beat in (beat_id, other):
        starter = fresh_listing(client, beat)["offers"][0]
        assert (starter["name"], starter["limits"]["audio_streams"], starter["term_years"]) == \
            ("Starter lease", 75000, 3)

    response = client.delete(f"/api/v1/license-tiers/{basic['id']}", headers=headers)
    assert response.status_code == 204, response.json
    assert fresh_listing(client, beat_id)["offers"][0]["name"] != "Starter lease"
    # Its only offer gone, the other beat is not on sale: out of the listing, its page still there.
    assert listed(client, other) is None
    page = client.get(f"/api/v1/beats/{other}").json
    assert (page["status"], page["offers"], page["price_from"]) == ("published", [], None)


def test_a_new_render_plays_a_rename_and_holds_show_at_once(app, client, beat_on_sale, make_user):
    beat_id, _headers, _tiers = beat_on_sale
    preview_url = fresh_listing(client, beat_id)["preview_url"]
    with app.app_context():  # what a render after a voice-tag change does
        db.session.get(Beat, beat_id).preview_version += 1
        db.session.commit()
    assert fresh_listing(client, beat_id)["preview_url"] != preview_url

    assert client.get(f"/api/v1/beats/{beat_id}/preview").status_code == 200
    assert fresh_listing(client, beat_id)["play_count"] == 1

    with app.app_context():
        owner = db.session.get(User, db.session.get(Beat, beat_id).owner_id)
        owner.display_name = "Metro Boomin"
        db.session.commit()
    assert fresh_listing(client, beat_id)["beatmaker"]["display_name"] == "Metro Boomin"

    def exclusive_available():
        item = fresh_listing(client, beat_id)
        return next(offer["available"] for offer in item["offers"] if offer["kind"] == "exclusive")

    assert exclusive_available() is True
    with app.app_context():
        order_id = open_checkout_holding(beat_id, make_user(Role.ARTIST))
        db.session.commit()
    before = revision(app, beat_id)
    assert exclusive_available() is False
    with app.app_context():
        release_holds(order_id, "test")
        db.session.commit()
    assert exclusive_available() is True
    assert revision(app, beat_id) == before  # holds are read fresh, not through the revision


def test_an_archived_beat_leaves_the_listing_and_comes_back_fresh(client, beat_on_sale):
    beat_id, headers, _tiers = beat_on_sale
    assert client.delete(f"/api/v1/beats/{beat_id}", headers=headers).status_code == 200
    assert listed(client, beat_id) is None
    response = client.patch(f"/api/v1/beats/{beat_id}", json={"status": "published", "title": "Back"},
                            headers=headers)
    assert response.status_code == 200, response.json
    assert fresh_listing(client, beat_id)["title"] == "Back"


def test_a_change_made_in_another_process_shows_here(app, client, beat_on_sale):
    """Each process keeps its own documents; the revision comes from the database."""
    beat_id, headers, _tiers = beat_on_sale
    other_process = make_test_app(app.config["DATABASE_URL"]).test_client()
    assert listed(other_process, beat_id)["title"] == "Night Drive"
    response = other_process.patch(f"/api/v1/beats/{beat_id}", json={"title": "Elsewhere"}, headers=headers)
    assert response.status_code == 200, response.json
    assert fresh_listing(client, beat_id)["title"] == "Elsewhere"


def test_documents_are_built_once_and_only_again_after_a_change(app, client, beat_on_sale):
    """Elsewhere than on PostgreSQL (which builds every page's documents with the page, in one
    statement), a document is built once, and again only after a change."""
    beat_id, headers, _tiers = beat_on_sale
    assert count_queries(app, client, "/api/v1/beats") == 1  # the page only
    assert client.patch(f"/api/v1/beats/{beat_id}", json={"mood": "Dark"}, headers=headers).status_code == 200
    # The page, and the changed document.
    assert count_queries(app, client, "/api/v1/beats") == FIRST_LISTING
    assert count_queries(app, client, "/api/v1/beats") == 1
    assert fresh_listing(client, beat_id)["mood"] == "dark"


def test_without_a_cache_every_listing_builds_its_documents(app, beat_on_sale):
    beat_id, _headers, _tiers = beat_on_sale
    uncached = make_test_app(app.config["DATABASE_URL"], LISTING_CACHE_BEATS=0)
    client = uncached.test_client()
    assert count_queries(uncached, client, "/api/v1/beats") == FIRST_LISTING
    assert count_queries(uncached, client, "/api/v1/beats") == FIRST_LISTING
    assert fresh_listing(client, beat_id)["title"] == "Night Drive"


def entry(beat_id: str, revision: int) -> ListedBeat:
    offers = [{"kind": "exclusive", "available": True}]
    return ListedBeat(beat_id, revision, {"id": beat_id, "play_count": 0, "offers": offers},
                      [{"kind": "exclusive", "available": False}])


def test_the_cache_answers_only_at_the_asked_revision_and_keeps_the_newest():
    cache = ListingCache(capacity=10)
    cache.put(entry("a", 2))
    assert cache.get("a", 2) is not None
    assert cache.get("a", 1) is None and cache.get("a", 3) is None
    cache.put(entry("a", 1))  # a slower request built an older document
    assert cache.get("a", 2) is not None and cache.get("a", 1) is None
    cache.put(entry("a", 3))
    assert cache.get("a", 3) is not None and cache.get("a", 2) is None


def test_the_cache_forgets_the_least_recently_listed_beats_first():
    cache = ListingCache(capacity=2)
    cache.put(entry("a", 0))
    cache.put(entry("b", 0))
    assert cache.get("a", 0) is not None  # a was listed again, so b is the oldest
    cache.put(entry("c", 0))
    assert len(cache) == 2
    assert cache.get("b", 0) is None
    assert cache.get("a", 0) is not None and cache.get("c", 0) is not None
    disabled = ListingCache(capacity=0)
    disabled.put(entry("a", 0))
    assert disabled.get("a", 0) is None and len(disabled) == 0


def test_a_kept_document_shows_the_fresh_play_count_and_hold():
    kept = entry("a", 0)
    shown = kept.shown(play_count=7, held=True)
    assert shown["play_count"] == 7 and shown["offers"] == [{"kind": "exclusive", "available": False}]
    assert kept.shown(play_count=8, held=False)["offers"] == [{"kind": "exclusive", "available": True}]
    assert kept.document["play_count"] == 0  # the kept document itself never changes


@postgres_only("concurrent transactions on a row lock")
def test_concurrent_changes_to_one_beat_never_end_on_one_revision(app, make_user, make_beat):
    """Two transactions change the beat at once: the second waits for the first's row lock,
    then increments the revision the first committed, so a document built in between is
    never mistaken for the final one."""
    beat_id = make_beat(make_user(Role.BEATMAKER))
    start = revision(app, beat_id)
    with app.app_context():
        engine = db.engine
    first, second = Session(engine), Session(engine)
    try:
        second.get(Beat, beat_id)  # read before the first changes it
        first.get(Beat, beat_id).title = "First"
        first.flush()  # holds the row lock
        second_done = threading.Event()

        def change_in_second() -> None:
            second.get(Beat, beat_id).title = "Second"
            second.commit()
            second_done.set()

        thread = threading.Thread(target=change_in_second)
        thread.start()
        assert not second_done.wait(0.5)  # waiting for the first's lock
        first.commit()
        thread.join(timeout=30)
        assert second_done.is_set()
    finally:
        first.close()
        second.close()
    with app.app_context():
        beat = db.session.scalar(select(Beat).where(Beat.id == beat_id))
        assert (beat.title, beat.listing_revision) == ("Second", start + 2)


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL finds a page and builds its documents in one statement")
def test_a_beat_unlisted_while_the_page_is_built_is_left_out(app, client, make_user, make_beat):
    """Between the query that finds the page and the one that builds its documents, another
    request takes a beat off the store: the page goes on without it."""
    owner = make_user(Role.BEATMAKER)
    kept, unlisted = make_beat(owner, title="Kept"), make_beat(owner, title="Unlisted")
    with app.app_context():
        engine = db.engine

    def unlist_before_building(_conn, _cursor, statement, *_args):
        if "credits_json" in statement and not unlisting.is_set():
            unlisting.set()
            with Session(engine) as other_request:
                other_request.get(Beat, unlisted).status = "archived"
                other_request.commit()

    unlisting = threading.Event()
    event.listen(engine, "before_cursor_execute", unlist_before_building)
    try:
        response = client.get("/api/v1/beats")
    finally:
        event.remove(engine, "before_cursor_execute", unlist_before_building)
    assert unlisting.is_set()
    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [kept]
    assert listed(client, unlisted) is None


def test_a_page_larger_than_the_cache_is_listed_whole(app, make_user, make_beat):
    owner = make_user(Role.BEATMAKER)
    beats = [make_beat(owner, title=f"Beat {index}", price=1000 + index) for index in range(5)]
    small = make_test_app(app.config["DATABASE_URL"], LISTING_CACHE_BEATS=2)
    client = small.test_client()
    for _ in range(2):
        items = client.get("/api/v1/beats?sort=price_asc").json["items"]
        assert [item["id"] for item in items] == beats
        assert all(item == client.get(f"/api/v1/beats/{item['id']}").json for item in items)
    # PostgreSQL builds documents with the page, and keeps none.
    assert len(small.extensions["listing_cache"]) == (0 if ON_POSTGRES else 2)


@postgres_only("concurrent transactions on row locks")
def test_concurrent_edits_of_one_sellers_tiers_bump_every_beat_once_each(app, client, live_server, seller,  # noqa: F811
                                                                         tiers_of, make_beat):  # noqa: F811
    """Each tier edit bumps the revision of every beat offered under it. Edits of two tiers
    offered on the same beats lock those beats in one order, so none deadlocks, and every
    edit counts once."""
    seller_id, headers = seller
    basic = tiers_of(headers)["Basic lease"]
    response = client.post("/api/v1/license-tiers", headers=headers, json={
        "name": "Demo lease", "kind": "lease", "deliverables": ["mp3"],
        "default_price": {"amount": 1999, "currency": "usd"}})
    assert response.status_code == 201, response.json
    tier_ids = [basic["id"], response.json["id"]]
    beats = [make_beat(seller_id, title=f"Beat {index}") for index in range(8)]
    for beat_id in beats:
        response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[
            {"tier_id": tier_id, "price": {"amount": 2999, "currency": "usd"}} for tier_id in tier_ids])
        assert response.status_code == 200, response.json
    before = {beat_id: revision(app, beat_id) for beat_id in beats}

    def rename(edit: int) -> int:
        tier_id = tier_ids[edit % 2]
        return requests.patch(f"{live_server}/api/v1/license-tiers/{tier_id}", headers=headers, timeout=60,
                              json={"name": f"Tier {edit % 2} edit {edit}"}).status_code

    edits = 16
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(rename, range(edits))) == [200] * edits
    assert {beat_id: revision(app, beat_id) - before[beat_id] for beat_id in beats} == \
        {beat_id: edits for beat_id in beats}
    current = {tier["id"]: tier["name"] for tier in client.get("/api/v1/license-tiers", headers=headers).json}
    for beat_id in beats:
        listed_names = {offer["tier_id"]: offer["name"] for offer in fresh_listing(client, beat_id)["offers"]}
        assert listed_names == {tier_id: current[tier_id] for tier_id in tier_ids}
