from __future__ import annotations

import base64
import datetime as dt
import io
import json

import pytest
from sqlalchemy import event

from marketplace.accounts.models import Role
from marketplace.checkout.holds import HOLD_GRACE, take_hold
from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.conftest import ON_POSTGRES
from tests.licensing.conftest import masters, offer_all, seller, tiers_of, upload_beat  # noqa: F401


@pytest.fixture
def owner(make_user):
    return make_user(Role.BEATMAKER, "Metro")


def ids(response):
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_only_published_beats_are_listed(client, owner, make_beat):
    published = make_beat(owner)
    make_beat(owner, publish=False)
    assert ids(client.get("/api/v1/beats")) == [published]


def test_text_search_covers_title_tags_and_credited_names(client, owner, make_user, make_beat):
    other = make_user(Role.BEATMAKER, "Southside")
    by_title = make_beat(owner, title="Midnight Velvet")
    by_tag = make_beat(owner, title="Untitled", tags=["velvety", "lofi"])
    by_owner_name = make_beat(other, title="Anything")
    make_beat(owner, title="Nothing Here")
    assert set(ids(client.get("/api/v1/beats?q=velvet"))) == {by_title, by_tag}
    assert ids(client.get("/api/v1/beats?q=south")) == [by_owner_name]
    assert ids(client.get("/api/v1/beats?q=MIDNIGHT velv")) == [by_title]  # all words, any case
    assert ids(client.get("/api/v1/beats?q=midnight lofi")) == []
    # Query syntax is not injectable: operators are just ignored characters.
    assert set(ids(client.get('/api/v1/beats?q=velvet"*)(^'))) == {by_title, by_tag}
    assert set(ids(client.get("/api/v1/beats?q=velvet:* | !"))) == {by_title, by_tag}
    assert ids(client.get("/api/v1/beats?q=&&&")) != []  # no words: no text filter


def test_every_filter(client, owner, make_user, make_beat):
    other = make_user(Role.BEATMAKER)
    a = make_beat(owner, bpm=90, key="Am", genre="Boom Bap", mood="Chill", tags=["dusty"], price=2000)
    b = make_beat(owner, bpm=140, key="F#m", genre="Trap", mood="Dark", tags=["808"], price=5000)
    c = make_beat(other, bpm=150, key="Gbm", genre="trap", mood="dark", tags=["808", "drill"], price=9000)
    d = make_beat(other, bpm=170, genre="drill", price=1000)
    make_beat(other, bpm=170, genre="drill", tags=["808"], price=None)  # not on sale: no filter finds it
    cases = {
        "genre=trap": {b, c}, "genre=TRAP": {b, c}, "mood=dark": {b, c},
        "key=F sharp minor": {b, c}, "key=11A": {b, c}, "key=am": {a},
        "bpm_min=140": {b, c, d}, "bpm_max=140": {a, b}, "bpm_min=100&bpm_max=160": {b, c},
        "price_min=5000": {b, c}, "price_max=5000": {a, b, d}, "price_min=2000&price_max=2000": {a},
        "tag=808": {b, c}, "tag=%23Drill": {c}, f"beatmaker={other}": {c, d}, "genre=drill": {d},
        "genre=trap&tag=drill": {c}, "genre=jazz": set(),
    }
    for query, expected in cases.items():
        assert set(ids(client.get(f"/api/v1/beats?{query}"))) == expected, query


def test_every_sort_orders_with_a_stable_tiebreak(client, owner, make_beat):
    beats = {
        "a": make_beat(owner, bpm=120, price=3000, play_count=5),
        "b": make_beat(owner, bpm=90, price=1000, play_count=50),
        "c": make_beat(owner, bpm=120, price=2000, play_count=5),
        "d": make_beat(owner, bpm=200, price=3000, play_count=0),
        "e": make_beat(owner, bpm=100, price=None, play_count=99),  # not on sale: in no sort
    }
    name = {v: k for k, v in beats.items()}

    def order(sort):
        return "".join(name[i] for i in ids(client.get(f"/api/v1/beats?sort={sort}")))

    assert order("newest") == "dcba"  # published later first
    assert order("popular") == "bcad"  # ties: newer id first
    assert order("price_asc") == "bcad"  # ties: older id first
    assert order("price_desc") == "dacb"
    assert order("bpm") == "bacd"


@pytest.mark.parametrize("sort", ["newest", "popular", "price_asc", "price_desc", "bpm"])
def test_cursor_walk_never_skips_or_repeats_even_with_inserts(client, owner, make_beat, sort):
    made = [make_beat(owner, bpm=100 + (i % 4) * 10, price=[None, 1500, 2500][i % 3], play_count=i % 5)
            for i in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/beats?sort={sort}&limit=5" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        seen += ids(response)
        cursor = response.json["next_cursor"]
        pages += 1
        if pages == 2:
            # Beats published mid-walk, sorting anywhere, must not disturb the rest of it.
            for i in range(6):
                make_beat(owner, bpm=100 + i * 10, price=[None, 1500, 2500][i % 3], play_count=i)
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a beat was repeated"
    on_sale = {beat for index, beat in enumerate(made) if index % 3}
    assert on_sale <= set(seen), "a beat was skipped"
    assert not (set(made) - on_sale) & set(seen), "a beat not on sale was listed"


def test_limit_and_last_page(client, owner, make_beat):
    for _ in range(3):
        make_beat(owner)
    first = client.get("/api/v1/beats?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    last = client.get(f"/api/v1/beats?limit=2&cursor={first['next_cursor']}").json
    assert len(last["items"]) == 1 and last["next_cursor"] is None
    exact = client.get("/api/v1/beats?limit=3").json
    assert len(exact["items"]) == 3 and exact["next_cursor"] is None


def forged_cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, field", [
    ("sort=cheapest", "sort"), ("bpm_min=-5", "bpm_min"), ("bpm_min=20", "bpm_min"),
    ("bpm_min=150&bpm_max=100", "bpm_min"), ("price_min=500&price_max=100", "price_min"),
    ("price_min=-1", "price_min"), ("limit=101", "limit"), ("limit=0", "limit"), ("limit=ten", "limit"),
    ("key=H%23m", "key"), ("cursor=%%%garbage", "cursor"), ("cursor=bm90LWpzb24", "cursor"),
    (f"cursor={forged_cursor({'s': 'bpm', 'k': 100, 'id': 'bt_x'})}", "cursor"),
    (f"cursor={forged_cursor({'s': 'newest', 'k': 100, 'id': 'bt_x'})}", "cursor"),
    (f"cursor={forged_cursor({'s': 'newest', 'k': '2026-01-01T00:00:00', 'id': 'bt_x'})}", "cursor"),
    (f"cursor={forged_cursor({'s': 'newest', 'k': '2026-01-01T00:00:00+00:00', 'id': 7})}", "cursor"),
    (f"cursor={forged_cursor(['newest'])}", "cursor"), ("q=" + "x" * 201, "q"), ("colour=red", "colour"),
])
def test_bad_search_input_is_422(client, owner, make_beat, query, field):
    make_beat(owner)
    response = client.get(f"/api/v1/beats?{query}")
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["details"], response.json


def test_a_cursor_of_one_sort_is_refused_by_another(client, owner, make_beat):
    for _ in range(3):
        make_beat(owner)
    cursor = client.get("/api/v1/beats?limit=1&sort=bpm").json["next_cursor"]
    assert client.get(f"/api/v1/beats?sort=bpm&cursor={cursor}").status_code == 200
    assert client.get(f"/api/v1/beats?sort=newest&cursor={cursor}").status_code == 422


# The statements of a listing whose documents are not kept yet: on PostgreSQL one, which finds
# the page and builds its documents; elsewhere the page, then its beats' documents.
FIRST_LISTING = 1 if ON_POSTGRES else 2


def count_queries(app, client, url) -> int:
    return len(queries_of(app, client, url))


def queries_of(app, client, url) -> list[str]:
    statements = []

    def record(conn, cursor, statement, *args):
        if statement != "BEGIN":  # SQLite's transaction start is not a query
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def test_a_player_reads_neither_credits_nor_tags_of_the_beats_it_plays(app, client, owner, make_beat):
    beat_id = make_beat(owner, tags=["dark", "drill"])
    with app.app_context():
        from marketplace.catalog import services
        from marketplace.storage.service import storage

        beat = services.get_beat(beat_id)
        services.replace_credits(beat, [{"name": "Metro", "user_id": owner, "role": "producer"},
                                        {"name": "Guest", "role": "co_producer"}])
        beat.waveform_key = f"waveforms/{beat_id}.json"
        storage().save(beat.preview_key, io.BytesIO(b"ID3 preview"))
        storage().save(beat.waveform_key, io.BytesIO(b"{}"))
        db.session.commit()
    for path in ("preview", "waveform"):
        statements = queries_of(app, client, f"/api/v1/beats/{beat_id}/{path}")
        assert not [s for s in statements if "beat_credits" in s or "beat_tags" in s], statements
    # The beat's page still shows both.
    page = client.get(f"/api/v1/beats/{beat_id}").json
    assert [credit["name"] for credit in page["credits"]] == ["Metro", "Guest"]
    assert page["tags"] == ["dark", "drill"]


def test_a_constant_number_of_queries_whatever_the_page_size(app, client, owner, make_user, make_beat):
    collaborator = make_user(Role.BEATMAKER, "Partner")
    for index in range(40):
        beat = make_beat(owner if index % 2 else collaborator, tags=["a", "b", f"t{index}"], price=1000 + index)
        with app.app_context():
            from marketplace.catalog import services

            record = services.get_beat(beat)
            services.replace_credits(record, [
                {"name": "Metro", "user_id": record.owner_id, "role": "producer"},
                {"name": "Guest", "role": "co_producer"}, {"name": "Eng", "role": "mix_engineer"}])
            db.session.commit()
    # The page and the documents of its beats with their owners, credits, tags and offers.
    small = count_queries(app, client, "/api/v1/beats?limit=1&q=guest&tag=a&sort=price_asc")
    large = count_queries(app, client, "/api/v1/beats?limit=40&q=guest&tag=a&sort=price_asc")
    assert small == large == FIRST_LISTING
    # Then one statement: the page with its documents (PostgreSQL), or the page alone, the
    # documents built once being kept at their revision.
    assert count_queries(app, client, "/api/v1/beats?limit=40&q=guest&tag=a&sort=price_asc") == 1
    single = count_queries(app, client, "/api/v1/beats?limit=1&sort=bpm")
    full = count_queries(app, client, "/api/v1/beats?limit=100&sort=bpm")
    assert single == 1 and full == 1


def test_a_listing_shows_a_held_exclusive_unavailable_across_its_family(app, client, seller, upload_beat,  # noqa: F811
                                                                        offer_all, make_user):  # noqa: F811
    _seller_id, headers = seller
    original = upload_beat(headers, title="Night Drive")
    version = upload_beat(headers, title="Night Drive (slowed)", version_of=original)
    other = upload_beat(headers, title="Day Ride")
    for beat in (original, version, other):
        offer_all(headers, beat)
    on_sale, held = {"lease": True, "exclusive": True}, {"lease": True, "exclusive": False}

    def availability():
        items = client.get("/api/v1/beats").json["items"]
        return {item["id"]: {offer["kind"]: offer["available"] for offer in item["offers"]} for item in items}

    assert availability() == {original: on_sale, version: on_sale, other: on_sale}
    with app.app_context():
        order = Order(buyer_id=make_user(Role.ARTIST), currency="usd", subtotal_amount=1, total_amount=1,
                      expires_at=utcnow() + dt.timedelta(minutes=30))
        db.session.add(order)
        db.session.flush()
        hold_id = take_hold(original, order.id, order.expires_at).id
        db.session.commit()
    assert availability() == {original: held, version: held, other: on_sale}
    assert count_queries(app, client, "/api/v1/beats") == 1
    with app.app_context():  # past its expiry and the grace after it, a hold no longer counts
        db.session.get(ExclusiveHold, hold_id).expires_at = utcnow() - HOLD_GRACE - dt.timedelta(seconds=1)
        db.session.commit()
    assert availability() == {original: on_sale, version: on_sale, other: on_sale}
