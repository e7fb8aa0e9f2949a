from __future__ import annotations

import itertools

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD, bearer, login

_counter = itertools.count()


@pytest.fixture
def make_user(app):
    def make(role: Role = Role.BEATMAKER, name: str | None = None) -> str:
        index = next(_counter)
        with app.app_context():
            user = accounts.create_user(f"user{index}@example.com", DEFAULT_PASSWORD,
                                        name or f"User {index}", role)
            db.session.commit()
            return user.id
    return make


@pytest.fixture
def headers_for(app, client):
    def headers(user_id: str) -> dict[str, str]:
        with app.app_context():
            email = accounts.get_user(user_id).email
        return bearer(login(client, email).json["access_token"])
    return headers


@pytest.fixture
def make_beat(app):
    """Creates a beat for an owner; published unless told otherwise."""

    def make(owner_id: str, publish: bool = True, price: int | None = None, play_count: int = 0,
             **fields) -> str:
        fields.setdefault("title", f"Beat {next(_counter)}")
        fields.setdefault("bpm", 140)
        with app.app_context():
            beat = catalog.create_beat(accounts.get_user(owner_id), **fields)
            if publish:
                catalog.publish(beat)
            if price is not None:
                catalog.set_listing_price(beat, price, "usd")
            beat.play_count = play_count
            db.session.commit()
            return beat.id
    return make
