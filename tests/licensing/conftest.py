"""Fixtures for licensing: a beatmaker with real uploaded beats, tiers, offers and sales."""

from __future__ import annotations

import io
import itertools

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.licensing import issuing
from marketplace.licensing.models import License
from tests.media import make_beat

_sales = itertools.count()


@pytest.fixture(scope="session")
def masters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masters")
    return {"wav": make_beat(folder / "master.wav"), "mp3": make_beat(folder / "master.mp3"),
            "flac": make_beat(folder / "master.flac"), "short": make_beat(folder / "stem.wav", seconds=3)}


def stems_zip(masters) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("drums.wav", masters["short"].read_bytes())
    return buffer.getvalue()


@pytest.fixture
def seller(make_user, headers_for):
    user_id = make_user(Role.BEATMAKER, "Metro")
    return user_id, headers_for(user_id)


@pytest.fixture
def buyer(make_user, headers_for):
    user_id = make_user(Role.ARTIST, "Ann Artist")
    return user_id, headers_for(user_id)


@pytest.fixture
def upload_beat(client, masters):
    """Uploads a real beat (processed at once in tests); returns its id."""

    def upload(headers, kind="wav", stems=True, **fields):
        data = {"title": fields.pop("title", "Night Drive"), "bpm": "140", "key": "F#m", **fields,
                "file": (io.BytesIO(masters[kind].read_bytes()), f"master.{kind}")}
        if stems:
            data["stems"] = (io.BytesIO(stems_zip(masters)), "stems.zip")
        response = client.post("/api/v1/beats", data=data, headers=headers, content_type="multipart/form-data")
        assert response.status_code == 202, response.json
        return response.json["id"]

    return upload


@pytest.fixture
def tiers_of(client):
    """The seller's tiers by name (seeded from the defaults on first use)."""

    def tiers(headers):
        response = client.get("/api/v1/license-tiers", headers=headers)
        assert response.status_code == 200, response.json
        return {tier["name"]: tier for tier in response.json}

    return tiers


@pytest.fixture
def offer_all(client, tiers_of):
    """Offers a beat under every default tier at its default price."""

    def offer(headers, beat_id, names=None):
        tiers = tiers_of(headers)
        wanted = [{"tier_id": t["id"], "price": t["default_price"]} for name, t in tiers.items()
                  if names is None or name in names]
        response = client.put(f"/api/v1/beats/{beat_id}/offers", json=wanted, headers=headers)
        assert response.status_code == 200, response.json
        return tiers

    return offer


@pytest.fixture
def sell(app):
    """Issues a license as fulfilment would, and commits (jobs then run: contract, files)."""

    def sell(beat_id, tier_id, buyer_id, price=2999, reference=None) -> str:
        with app.app_context():
            license_ = issuing.issue_license(issuing.Sale(
                reference=reference or f"sale-{next(_sales)}", beat_id=beat_id, tier_id=tier_id,
                buyer=accounts.get_user(buyer_id), price_amount=price, currency="usd"))
            db.session.commit()
            return license_.id

    return sell


@pytest.fixture
def license_row(app):
    def load(license_id) -> License:
        with app.app_context():
            license_ = db.session.get(License, license_id)
            db.session.expunge(license_)
            return license_
    return load
