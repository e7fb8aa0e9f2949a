"""Text search finds beats by their genre, mood and tags as words, as the filters do; the
store's vocabulary lists the genres, moods and keys to filter by, with counts of beats on sale."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.catalog import search
from marketplace.catalog.keys import CANONICAL_KEYS
from marketplace.catalog.vocabulary import SUGGESTED_GENRES, SUGGESTED_MOODS
from marketplace.db import db
from marketplace.migrate import downgrade, upgrade
from tests.conftest import make_test_app


@pytest.fixture
def owner(make_user):
    return make_user(Role.BEATMAKER, "Metro")


def found(client, query: str) -> set[str]:
    response = client.get("/api/v1/beats", query_string={"q": query, "limit": 100})
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def test_search_finds_genre_mood_and_tags_as_words(client, owner, make_beat):
    trap = make_beat(owner, title="Midnight Drive", genre="Trap", mood="Dark", tags=["808"])
    boom_bap = make_beat(owner, title="Concrete Letters", genre="boom bap", mood="nostalgic", tags=["dusty"])
    lofi = make_beat(owner, title="Paper Lanterns", genre="lo-fi", mood="Chill", tags=["trap soul"])
    untagged = make_beat(owner, title="Plain")
    assert found(client, "trap") == {trap, lofi}  # the genre of one, a tag of the other
    assert found(client, "TRAP") == {trap, lofi}
    assert found(client, "dark") == {trap}
    assert found(client, "bap") == {boom_bap}
    assert found(client, "boom bap nostalgic") == {boom_bap}
    assert found(client, "lo-fi") == found(client, "lo fi") == {lofi}
    assert found(client, "chill paper") == {lofi}  # words of the mood and the title together
    assert found(client, "trap dark") == {trap}
    assert found(client, "nostalgia") == set()
    # The text search and the genre filter agree on what a genre holds.
    genre = client.get("/api/v1/beats?genre=trap").json["items"]
    assert {item["id"] for item in genre} <= found(client, "trap")
    assert untagged in found(client, "plain")


def test_a_changed_genre_or_mood_is_searchable_at_once(client, owner, make_beat, headers_for):
    beat = make_beat(owner, title="Glass Skyline", genre="trap", mood="epic")
    response = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner),
                            json={"genre": "Drill", "mood": "Ängstlich 😈"})
    assert response.status_code == 200, response.json
    assert found(client, "drill") == {beat}
    assert found(client, "ängstlich") == {beat}
    assert found(client, "trap") == found(client, "epic") == set()
    response = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner),
                            json={"genre": None, "mood": None})
    assert response.status_code == 200, response.json
    assert found(client, "drill") == set()
    assert found(client, "glass") == {beat}


def test_search_by_genre_keeps_every_sort_and_page_whole(client, owner, make_beat):
    trap = [make_beat(owner, genre="trap", bpm=100 + index % 3, price=1000 + 100 * (index % 4),
                      play_count=index % 5) for index in range(13)]
    make_beat(owner, genre="drill")
    make_beat(owner, genre="trap", price=None)  # not on sale
    for sort in ("newest", "popular", "price_asc", "price_desc", "bpm"):
        whole = client.get("/api/v1/beats",
                           query_string={"q": "trap", "sort": sort, "limit": 100}).json["items"]
        seen, cursor = [], None
        while True:
            page = client.get("/api/v1/beats", query_string={
                "q": "trap", "sort": sort, "limit": 4, **({"cursor": cursor} if cursor else {})}).json
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [item["id"] for item in whole], sort  # pages follow one another in the sort's order
        assert sorted(seen) == sorted(trap), sort


def test_the_migration_adds_genre_and_mood_to_documents_written_before(database_factory):
    """Beats stored before search knew genres are found by them once the database is upgraded."""
    app = make_test_app(database_factory())
    with app.app_context():
        upgrade(db.engine)
    client = app.test_client()
    from marketplace.accounts import services as accounts
    from marketplace.catalog import services as catalog

    with app.app_context():
        owner = accounts.create_user("old@example.com", "correct horse battery", "Old Maker", Role.BEATMAKER,
                                     verified=True)
        beat = catalog.create_beat(owner, title="Old Beat", bpm=90, genre="Boom Bap", mood="dusty",
                                   tags=["vinyl"])
        beat.preview_key = "previews/old.mp3"
        catalog.publish(beat)
        catalog.set_listing_price(beat, 2000, "usd")
        plain = catalog.create_beat(owner, title="No Labels", bpm=90)
        plain.preview_key = "previews/plain.mp3"
        catalog.publish(plain)
        catalog.set_listing_price(plain, 2000, "usd")
        db.session.commit()
        beat_id, plain_id = beat.id, plain.id
        # As the release before wrote them: title, tags and names.
        db.session.execute(text("UPDATE beats SET search_document = title || ' vinyl Old Maker'"
                                " WHERE id = :id"), {"id": beat_id})
        db.session.commit()
        downgrade(db.engine, "e20f0search1-1")
        # The search alone (the listing's documents read columns of later releases).
        assert search.search_beats(search.BeatQuery(q="bap")).items == []
        upgrade(db.engine)
        documents = dict(db.session.execute(text("SELECT id, search_document FROM beats")).all())
        db.engine.dispose()
    assert found(client, "bap") == found(client, "dusty vinyl") == {beat_id}
    assert found(client, "labels") == {plain_id}
    assert documents[plain_id] == "No Labels Old Maker"  # no label: nothing added


def vocabulary(client):
    response = client.get("/api/v1/catalog/vocabulary")
    assert response.status_code == 200, response.json
    return response.json


def counts(entries):
    return {entry["value"]: entry["count"] for entry in entries}


def test_the_vocabulary_counts_beats_on_sale_by_genre_mood_and_key(app, client, owner, make_user, make_beat):
    make_beat(owner, genre="Trap", mood="dark", key="F#m")
    make_beat(owner, genre="trap", mood="Dark", key="Gb minor")
    make_beat(owner, genre="drill", mood="dark", key="C")
    make_beat(owner, genre="Jazz Hop ✨", mood=None)  # a genre no list suggests: listed as beats use it
    make_beat(owner, genre="trap", price=None)  # not on sale: not counted
    make_beat(owner, genre="trap", publish=False)  # not published: not counted
    suspended = make_user(Role.BEATMAKER)
    make_beat(suspended, genre="drill")  # its owner is suspended: not in the store
    with app.app_context():
        db.session.get(User, suspended).status = UserStatus.SUSPENDED
        db.session.commit()
    body = vocabulary(client)
    assert set(body) == {"genres", "moods", "keys"}
    genres = counts(body["genres"])
    assert genres["trap"] == 2 and genres["drill"] == 1 and genres["jazz hop ✨"] == 1
    # The most beats first, then from a to z.
    assert [entry["value"] for entry in body["genres"][:3]] == ["trap", "drill", "jazz hop ✨"]
    assert all(genres[genre] == 0 for genre in SUGGESTED_GENRES if genre not in ("trap", "drill"))
    assert set(SUGGESTED_GENRES) <= set(genres)
    moods = counts(body["moods"])
    assert moods["dark"] == 3 and set(SUGGESTED_MOODS) <= set(moods) and None not in moods
    keys = counts(body["keys"])
    assert [entry["value"] for entry in body["keys"]] == CANONICAL_KEYS
    assert keys["F# minor"] == 2 and keys["C major"] == 1 and sum(keys.values()) == 3
    # Every value is what the filter of the same name takes, and finds as many beats.
    for name in ("genre", "mood", "key"):
        for entry in body[f"{name}s"]:
            if entry["count"]:
                listed = client.get("/api/v1/beats", query_string={name: entry["value"], "limit": 100}).json
                assert len(listed["items"]) == entry["count"], (name, entry)


def test_the_vocabulary_of_an_empty_store_and_its_caching(client, owner, make_beat):
    body = vocabulary(client)
    assert counts(body["genres"]) == dict.fromkeys(sorted(SUGGESTED_GENRES), 0)
    assert [entry["value"] for entry in body["genres"]] == sorted(SUGGESTED_GENRES)
    assert len(body["keys"]) == 24
    response = client.get("/api/v1/catalog/vocabulary")
    assert "public" in response.headers["Cache-Control"]
    # Kept for a while per process when asked to: a beat published meanwhile counts later.
    database_url = client.application.config["DATABASE_URL"]
    kept = make_test_app(database_url, VOCABULARY_CACHE_SECONDS=600).test_client()
    assert counts(vocabulary(kept)["genres"])["trap"] == 0
    make_beat(owner, genre="trap")
    assert counts(vocabulary(client)["genres"])["trap"] == 1
    assert counts(vocabulary(kept)["genres"])["trap"] == 0
    assert "max-age=600" in kept.get("/api/v1/catalog/vocabulary").headers["Cache-Control"]


def test_many_labels_in_use_keep_the_most_common(client, owner, make_beat):
    from marketplace.catalog.vocabulary import MOST_LABELS_IN_USE

    for index in range(MOST_LABELS_IN_USE + 5):
        make_beat(owner, genre=f"genre {index:02d}", mood="dark")
    make_beat(owner, genre="genre 00", mood="dark")
    genres = counts(vocabulary(client)["genres"])
    assert genres["genre 00"] == 2
    assert len([genre for genre in genres if genre.startswith("genre ")]) == MOST_LABELS_IN_USE
    assert set(SUGGESTED_GENRES) <= set(genres)
