"""One mailbox, one account: addresses are normalised (NFKC, case-folded, IDNA domains), quoted
local parts are refused, and fullwidth or look-alike spellings of an existing address are a 409,
checked by a unique index too. Accounts that collided before are reported for an admin."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import MetaData, Table, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import EmailCollision, User
from marketplace.db import db
from marketplace.migrate import upgrade
from tests.conftest import login, make_test_app, postgres_only, register

SAME_MAILBOX = [
    "ANN@EXAMPLE.COM",
    "  Ann@Example.com ",
    "ａｎｎ@ｅｘａｍｐｌｅ.ｃｏｍ",  # fullwidth
    "ＡＮＮ＠example.com",  # fullwidth at sign
    "\u0430nn@example.com",  # Cyrillic a
    "ann@ex\u0430mple.com",  # Cyrillic a in the domain (an IDNA domain of its own)
    "ann@examp\u04cfe.com",  # Cyrillic palochka for l
    "\u0391NN@example.com",  # Greek capital alpha
    "ann@\u0435xample.com",  # Cyrillic e
    "\U0001d68a\U0001d697\U0001d697@example.com",  # mathematical monospace letters
]


def _code(response) -> str:
    return response.json["error"]["code"]


@pytest.mark.parametrize("spelling", SAME_MAILBOX)
def test_another_spelling_of_an_existing_address_is_a_conflict(client, spelling):
    assert register(client, email="ann@example.com").status_code == 201
    response = register(client, email=spelling)
    assert response.status_code == 409, response.json
    assert _code(response) == "email_taken"


def test_quoted_local_parts_are_refused_in_words(client):
    for quoted in ('"ann smith"@example.com', '"ann"@example.com', "＂ann＂@example.com"):
        response = register(client, email=quoted)
        assert response.status_code == 422, (quoted, response.json)
        assert "Use an email address without quotation marks in the part before the @." in \
            response.json["error"]["details"]["email"]


def test_idna_domains_keep_working(client):
    created = register(client, email="Zoë@Bücher.de")
    assert created.status_code == 201, created.json
    assert created.json["email"] == "zoë@xn--bcher-kva.de"
    for spelling in ("ZOË@BÜCHER.DE", "zoë@xn--bcher-kva.de", "zoe\u0308@bücher.de"):  # NFKC composes ë
        assert login(client, spelling).status_code == 200, spelling
        assert register(client, email=spelling).status_code == 409, spelling


def test_addresses_that_differ_in_ascii_stay_different_accounts(client):
    for address in ("bob1@example.com", "bobl@example.com", "bob.l@example.com", "b0b@example.com"):
        assert register(client, email=address).status_code == 201, address


def test_the_database_refuses_a_second_account_for_the_same_mailbox(app, make_user):
    from marketplace.accounts.emails import email_key

    with app.app_context():
        first = db.session.get(User, make_user())
        key = first.email_key
        assert key == email_key(first.email)
        db.session.add(User(email="\u0430" + first.email[1:], email_key=key, display_name="Twin",
                            password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@postgres_only("concurrent registrations")
def test_concurrent_look_alike_registrations_make_one_account(app, live_server):
    spellings = ["ann@example.com", "\u0430nn@example.com", "ａｎｎ@example.com", "ANN@example.com"]
    barrier = threading.Barrier(len(spellings))
    statuses: list[int] = []

    def register_one(address: str) -> None:
        barrier.wait()
        statuses.append(requests.post(f"{live_server}/api/v1/auth/register", timeout=30, json={
            "email": address, "password": "a long password", "display_name": "Ann",
            "account_type": "artist"}).status_code)

    threads = [threading.Thread(target=register_one, args=(address,)) for address in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    with app.app_context():
        # Whichever spelling won, it is the one account of that mailbox.
        assert db.session.execute(select(User.email_key)).scalars().all() == ["ann@example.com"]


# -- accounts that collided before the normalisation ------------------------------------------

BEFORE = "3f1c2b7a9d40"


def test_the_migration_reports_accounts_that_collide_for_an_admin(database_factory):
    app = make_test_app(database_factory())
    with app.app_context():
        engine = db.engine
        upgrade(engine, BEFORE)
        users_before = Table("users", MetaData(), autoload_with=engine)
        ids = {}
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        old = {"ann": "ann@example.com", "ann_fullwidth": "ａｎｎ@example.com",
               "ann_cyrillic": "\u0430nn@example.com", "bob_fullwidth": "ｂｏｂ@example.com",
               "carol": "carol@example.com"}
        with engine.begin() as connection:
            for index, (name, email) in enumerate(old.items()):
                ids[name] = f"usr_{name}"
                connection.execute(users_before.insert().values(
                    id=ids[name], email=email, display_name=name, password_hash="x", status="active",
                    created_at=start + dt.timedelta(days=index), updated_at=start))
        upgrade(engine)

        reported = {row.user_id: row for row in db.session.scalars(select(EmailCollision))}
        assert set(reported) == {ids["ann_fullwidth"], ids["ann_cyrillic"]}
        assert {row.kept_user_id for row in reported.values()} == {ids["ann"]}
        keys = dict(db.session.execute(select(User.id, User.email_key)).all())
        assert keys[ids["ann"]] == "ann@example.com" and keys[ids["ann_fullwidth"]] is None
        # An account alone with its mailbox takes the normalised spelling, so it can sign in.
        emails = dict(db.session.execute(select(User.id, User.email)).all())
        assert emails[ids["bob_fullwidth"]] == keys[ids["bob_fullwidth"]] == "bob@example.com"
        assert emails[ids["carol"]] == "carol@example.com"

        listed = app.test_cli_runner().invoke(args=["users", "collisions"])
        assert listed.exit_code == 0, listed.output
        lines = listed.output.splitlines()
        assert lines[0].startswith("ann@example.com: keeps ann@example.com (usr_ann, ann, created 2026-01-01")
        assert sorted(line.split(" (")[0] for line in lines[1:3]) == [
            "  also ann@example.com".replace("ann@", "\u0430nn@"), "  also ａｎｎ@example.com"]
        assert lines[3] == "2 account(s) to merge into the account that keeps the address."
        db.session.remove()
        engine.dispose()


def test_no_collisions_are_listed_when_there_are_none(app):
    listed = app.test_cli_runner().invoke(args=["users", "collisions"])
    assert listed.exit_code == 0 and listed.output.strip() == "No accounts share a mailbox."

