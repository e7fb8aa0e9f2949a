from __future__ import annotations

import itertools

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD, bearer, login

_counter = itertools.count()
LISTED_PRICE = 2500  # what make_beat's beats sell from unless told otherwise


@pytest.fixture
def make_beat(app):
    """Creates a beat for an owner; published unless told otherwise, and on sale from `price`
    (the lowest price licensing would keep) unless that is None."""

    def make(owner_id: str, publish: bool = True, price: int | None = LISTED_PRICE, play_count: int = 0,
             **fields) -> str:
        fields.setdefault("title", f"Beat {next(_counter)}")
        fields.setdefault("bpm", 140)
        with app.app_context():
            beat = catalog.create_beat(accounts.get_user(owner_id), **fields)
            if publish:
                beat.preview_key = f"previews/{beat.id}.mp3"  # published beats have been rendered
                catalog.publish(beat)
            if price is not None:
                catalog.set_listing_price(beat, price, "usd")
            beat.play_count = play_count
            db.session.commit()
            return beat.id
    return make


def standalone_client(database_url: str, folder, **settings):
    """A client of an app of its own (its own database and storage folder), for settings
    the shared app does not have. Returns (client, beatmaker headers, beat counter)."""
    from marketplace.catalog.models import Beat
    from marketplace.migrate import upgrade
    from tests.conftest import make_test_app

    app = make_test_app(database_url, STORAGE_LOCAL_ROOT=str(folder / "storage"), **settings)
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user("solo@example.com", DEFAULT_PASSWORD, "Solo", Role.BEATMAKER, verified=True)
        db.session.commit()
    client = app.test_client()
    headers = bearer(login(client, "solo@example.com").json["access_token"])

    def count_beats() -> int:
        with app.app_context():
            return db.session.query(Beat).count()

    return client, headers, count_beats
