"""Producer profiles: handles, the profile a person edits, their avatar and their public page."""

from __future__ import annotations

import io
import threading

import pytest
import requests
from PIL import Image

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.db import db
from marketplace.privacy.closing import close_account
from marketplace.profiles.models import ProducerProfile
from tests.catalog.conftest import make_beat  # noqa: F401  (fixture)
from tests.conftest import DEFAULT_PASSWORD, bearer, login, skip_unless_postgres

PROFILE = "/api/v1/me/profile"


def put_profile(client, headers, handle, **fields):
    body = {"handle": handle, "display_name": fields.pop("display_name", "Kasra"), **fields}
    return client.put(PROFILE, json=body, headers=headers)


def image_bytes(size=(640, 480), image_format="PNG", mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 90) if mode == "RGB" else 0).save(out, image_format)
    return out.getvalue()


def upload_avatar(client, headers, content: bytes, name="me.png"):
    return client.post(f"{PROFILE}/avatar", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), name)})


@pytest.fixture
def beatmaker(make_user, headers_for):
    user = make_user(Role.BEATMAKER, "Kasra")
    return user, headers_for(user)


@pytest.mark.parametrize("handle", ["kasra", "Kasra.Beats", "k_9", "a.b.c", "x" * 30, "@on_the.beat"])
def test_a_handle_following_the_rules_is_claimed(client, beatmaker, handle):
    _user, headers = beatmaker
    response = put_profile(client, headers, handle)
    assert response.status_code == 200, response.json
    assert response.json["handle"] == handle.removeprefix("@")
    assert client.get(PROFILE, headers=headers).json["handle"] == handle.removeprefix("@")


@pytest.mark.parametrize("handle, words", [
    ("ab", "3 to 30 characters"),
    ("x" * 31, "3 to 30 characters"),
    (".kasra", "start or end with a dot"),
    ("kasra.", "start or end with a dot"),
    ("kas..ra", "two dots in a row"),
    ("kas ra", "only letters A to Z"),
    ("kas-ra", "only letters A to Z"),
    ("kásra", "only letters A to Z"),
    ("каsra", "only letters A to Z"),  # Cyrillic look-alikes
    ("ｋａｓｒａ", "only letters A to Z"),  # full-width letters
    ("kasra🔥", "only letters A to Z"),
])
def test_a_handle_breaking_a_rule_is_refused_in_words(client, beatmaker, handle, words):
    _user, headers = beatmaker
    response = put_profile(client, headers, handle)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert words in " ".join(response.json["error"]["details"]["handle"])


@pytest.mark.parametrize("handle", ["admin", "API", "Studio", "store", "support", "help", "root", "system",
                                    "beats", "m_e", "cart", "account", "signin", "payouts",
                                    "_admin_", "Sup.Port"])
def test_reserved_words_are_refused(client, beatmaker, handle):
    _user, headers = beatmaker
    response = put_profile(client, headers, handle)
    assert response.status_code == 422
    assert "reserved" in response.json["error"]["details"]["handle"][0]
    availability = client.get(f"/api/v1/handles/{handle}").json
    assert availability["available"] is False and "reserved" in availability["reason"]


def test_a_handle_taken_in_another_case_is_a_conflict(client, beatmaker, make_user, headers_for):
    _user, headers = beatmaker
    assert put_profile(client, headers, "Kasra").status_code == 200
    other = headers_for(make_user(Role.ARTIST, "Imposter"))
    response = put_profile(client, other, "KASRA", display_name="Imposter")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "handle_taken"
    assert "@KASRA is already someone's handle" in response.json["error"]["message"]
    availability = client.get("/api/v1/handles/kAsRa", headers=other).json
    assert availability["available"] is False and "already" in availability["reason"]
    # Its holder may save again, even spelling it differently.
    assert put_profile(client, headers, "kasra").json["handle"] == "kasra"
    assert client.get("/api/v1/handles/kasra", headers=headers).json["available"] is True


def test_a_changed_handle_is_free_for_anyone_at_once(client, beatmaker, make_user, headers_for):
    _user, headers = beatmaker
    put_profile(client, headers, "kasra")
    assert put_profile(client, headers, "kasra.beats").status_code == 200
    assert client.get("/api/v1/profiles/kasra").status_code == 404
    other = headers_for(make_user(Role.ARTIST, "Other"))
    assert put_profile(client, other, "kasra", display_name="Other").status_code == 200
    assert client.get("/api/v1/profiles/kasra").json["display_name"] == "Other"


def test_any_script_and_emoji_in_display_name_and_bio(client, beatmaker):
    _user, headers = beatmaker
    bio = "Продюсер из Тегерана · 東京 · مرحبا 🎹🔥\nSecond line 👩🏽‍🎤"
    response = put_profile(client, headers, "kasra", display_name="Kasra 🎛️ کسری", bio=bio)
    assert response.status_code == 200, response.json
    public = client.get("/api/v1/profiles/kasra").json
    assert public["display_name"] == "Kasra 🎛️ کسری"
    assert public["bio"] == bio


@pytest.mark.parametrize("field, value, words", [
    ("display_name", "Kasra\u202eevil", "single line"),
    ("display_name", "  ", "blank"),
    ("bio", "x" * 1001, "1000"),
    ("bio", "hello\x1b[31m", "must not contain"),
])
def test_bad_display_name_or_bio_is_refused(client, beatmaker, field, value, words):
    _user, headers = beatmaker
    response = put_profile(client, headers, "kasra", **{field: value})
    assert response.status_code == 422
    assert words in " ".join(response.json["error"]["details"][field])


@pytest.mark.parametrize("link, words", [
    ("javascript:alert(1)", "https://"),
    ("data:text/html,<script>alert(1)</script>", "https://"),
    ("http://example.com/me", "https://"),
    ("https://user:secret@example.com/", "user name or password"),
    ("https://localhost/", "full host name"),
    ("https:///nohost", "full host name"),
    ("https://example.com/a b", "spaces"),
    ("https://example.com/\u0007", "control"),
    ("https://example.com/" + "a" * 300, "300 characters"),
    ("  JAVASCRIPT:alert(1)", "https://"),
])
def test_hostile_links_are_refused(client, beatmaker, link, words):
    _user, headers = beatmaker
    response = put_profile(client, headers, "kasra", links=["https://example.com/ok", link])
    assert response.status_code == 422
    assert words in " ".join(response.json["error"]["details"]["links"]["1"])


def test_links_are_kept_and_limited_in_number(client, beatmaker):
    _user, headers = beatmaker
    links = ["https://soundcloud.com/kasra", "https://instagram.com/kasra.beats"]
    assert put_profile(client, headers, "kasra", links=links).json["links"] == links
    response = put_profile(client, headers, "kasra", links=[f"https://example.com/{i}" for i in range(6)])
    assert response.status_code == 422
    assert response.json["error"]["details"]["links"] == ["At most 5 links."]


@pytest.mark.parametrize("image_format, name", [("PNG", "a.png"), ("JPEG", "a.jpg"), ("WEBP", "a.webp")])
def test_an_avatar_is_cropped_square_and_served(client, beatmaker, image_format, name):
    _user, headers = beatmaker
    put_profile(client, headers, "kasra")
    response = upload_avatar(client, headers, image_bytes((900, 500), image_format), name)
    assert response.status_code == 200, response.json
    url = response.json["avatar_url"]
    assert url.startswith("/api/v1/profiles/kasra/avatar?v=")
    for size in (400, 96):
        served = client.get(f"/api/v1/profiles/kasra/avatar?size={size}")
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(served.data)).size == (size, size)
    assert client.get("/api/v1/profiles/kasra").json["avatar_url"] == url


@pytest.mark.parametrize("content, status, code, words", [
    (b"%PDF-1.7 this is not a picture" * 10, 415, "unsupported_image", "Avatars must be JPEG, PNG or WebP"),
    (b"", 422, "empty_file", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, 422, "unreadable_image", "avatar image is damaged"),
])
def test_unusable_avatar_files_are_refused_in_words(client, beatmaker, content, status, code, words):
    _user, headers = beatmaker
    response = upload_avatar(client, headers, content, "me.png")
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert words in response.json["error"]["message"]
    assert client.get(PROFILE, headers=headers).json["avatar_url"] is None


def test_a_huge_avatar_is_refused_before_it_is_decoded(client, beatmaker):
    _user, headers = beatmaker
    response = upload_avatar(client, headers, image_bytes((9000, 20), "PNG", mode="L"))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "avatar_dimensions_too_large"
    assert "9,000 x 20 pixels" in response.json["error"]["message"]


def test_an_avatar_over_the_size_limit_is_refused(app, client, beatmaker):
    _user, headers = beatmaker
    limit = app.config["COVER_MAX_BYTES"]
    response = upload_avatar(client, headers, b"\x89PNG\r\n\x1a\n" + bytes(limit))
    assert response.status_code == 413
    assert response.json["error"]["code"] in ("avatar_too_large", "payload_too_large")


def test_the_public_profile_lists_listed_beats_and_credits_on_others(app, client, beatmaker, make_user,
                                                                    make_beat, headers_for):  # noqa: F811
    kasra, headers = beatmaker
    put_profile(client, headers, "kasra", bio="Hi")
    own = make_beat(kasra, title="Own beat")
    make_beat(kasra, publish=False, title="Still processing")
    metro = make_user(Role.BEATMAKER, "Metro")
    credited = make_beat(metro, title="Metro x Kasra")
    make_beat(metro, title="Metro alone")
    with app.app_context():
        beat = catalog.get_beat(credited)
        catalog.replace_credits(beat, [
            {"name": "Metro", "user_id": metro, "role": "producer"},
            {"name": "Kasra", "user_id": kasra, "role": "co_producer"},
            {"name": "Kasra", "user_id": kasra, "role": "mix_engineer"}])
        db.session.commit()

    profile = client.get("/api/v1/profiles/KASRA")
    assert profile.status_code == 200
    body = profile.json
    assert body["handle"] == "kasra" and body["bio"] == "Hi"
    assert [beat["id"] for beat in body["beats"]] == [own]
    assert [(c["beat"]["id"], c["roles"]) for c in body["credits"]] == [
        (credited, ["co_producer", "mix_engineer"])]
    assert body["credits"][0]["role_labels"] == ["Co-produced by", "Mixed by"]
    assert body["credits"][0]["beat"]["beatmaker"]["display_name"] == "Metro"


def test_beat_documents_link_the_beatmaker_and_credited_people(app, client, beatmaker, make_user,
                                                               make_beat, headers_for):  # noqa: F811
    kasra, headers = beatmaker
    metro = make_user(Role.BEATMAKER, "Metro")
    put_profile(client, headers_for(metro), "metro", display_name="Metro")
    beat_id = make_beat(metro, title="Together")
    with app.app_context():
        catalog.replace_credits(catalog.get_beat(beat_id), [
            {"name": "Metro", "user_id": metro, "role": "producer"},
            {"name": "Kasra", "user_id": kasra, "role": "co_producer"},
            {"name": "Nobody Linked", "role": "mix_engineer"}])
        db.session.commit()
    listing = client.get("/api/v1/beats").json["items"]  # fills the listing cache
    assert [c["handle"] for c in listing[0]["credits"]] == ["metro", None, None]

    put_profile(client, headers, "kasra")  # the credited person claims a handle afterwards
    single, listed = client.get(f"/api/v1/beats/{beat_id}").json, client.get("/api/v1/beats").json["items"][0]
    for document in (single, listed):
        assert document["beatmaker"]["handle"] == "metro"
        assert [c["handle"] for c in document["credits"]] == ["metro", "kasra", None]


def test_closed_and_suspended_accounts_have_no_profile(app, client, beatmaker, make_user, headers_for):
    kasra, headers = beatmaker
    put_profile(client, headers, "kasra", bio="Private soon")
    upload_avatar(client, headers, image_bytes())
    other = make_user(Role.BEATMAKER, "Other")
    put_profile(client, headers_for(other), "other.one", display_name="Other")
    assert client.get("/api/v1/profiles/kasra").status_code == 200
    with app.app_context():
        close_account(accounts.get_user(kasra), DEFAULT_PASSWORD)
        accounts.get_user(other).status = "suspended"
        db.session.commit()
    for handle in ("kasra", "other.one"):
        response = client.get(f"/api/v1/profiles/{handle}")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "profile_not_found"
    assert client.get("/api/v1/profiles/nobody.here").status_code == 404
    with app.app_context():
        closed = accounts.get_user(kasra)
        assert closed.handle is None and db.session.get(ProducerProfile, kasra) is None
    # A closed account's handle is free again; a suspended one keeps it for when it comes back.
    assert put_profile(client, headers_for(make_user(Role.ARTIST)), "kasra").status_code == 200
    assert client.get("/api/v1/handles/other.one").json["available"] is False


def test_two_accounts_racing_for_one_handle_get_it_once(live_server, app, make_user):
    skip_unless_postgres("the race is answered by the unique index under real concurrency")
    racers = 6
    tokens = []
    for index in range(racers):
        user = make_user(Role.BEATMAKER, f"Racer {index}")
        with app.app_context():
            email = accounts.get_user(user).email
        signed_in = requests.post(f"{live_server}/api/v1/auth/login", timeout=30,
                                  json={"email": email, "password": DEFAULT_PASSWORD})
        tokens.append(signed_in.json()["access_token"])
    barrier = threading.Barrier(racers)
    statuses: list[int] = []
    lock = threading.Lock()

    def claim(index: int) -> None:
        barrier.wait()
        response = requests.put(f"{live_server}{PROFILE}", headers=bearer(tokens[index]), timeout=30,
                                json={"handle": "The.Race" if index % 2 else "the.race",
                                      "display_name": f"Racer {index}"})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=claim, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [409] * (racers - 1)
    assert requests.get(f"{live_server}/api/v1/profiles/the.race", timeout=30).status_code == 200


def test_signing_in_is_needed_to_edit_a_profile(client):
    assert client.put(PROFILE, json={"handle": "kasra", "display_name": "K"}).status_code == 401
    assert login  # the shared helpers stay importable for the browser test
