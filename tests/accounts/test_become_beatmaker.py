"""An artist starts selling from the same account: it gains the beatmaker role and keeps the rest."""

from __future__ import annotations

import datetime as dt
import io
import threading

import requests
from sqlalchemy import func, select

from marketplace.accounts import services
from marketplace.accounts.models import Role, UserRole, UserStatus
from marketplace.catalog import services as catalog
from marketplace.checkout.models import Order, OrderStatus
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing import tiers
from marketplace.licensing.models import License, LicenseStatus
from tests.conftest import DEFAULT_PASSWORD, bearer, login, register
from tests.media import make_beat

BECOME = "/api/v1/me/become-beatmaker"


def _verify(app, email):
    with app.app_context():
        services.find_user_by_email(email).email_verified_at = utcnow()
        db.session.commit()


def _artist(app, client, email="ann@example.com"):
    assert register(client, email, "artist").status_code == 201
    _verify(app, email)
    return bearer(login(client, email).json["access_token"])


def _role_rows(app, email) -> list[str]:
    with app.app_context():
        user = services.find_user_by_email(email)
        return sorted(db.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))


def test_an_artist_becomes_a_beatmaker_keeps_buying_and_can_upload_at_once(app, client, tmp_path):
    headers = _artist(app, client)
    assert client.get("/api/v1/me/beats", headers=headers).status_code == 403
    response = client.post(BECOME, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["roles"] == ["artist", "beatmaker"]
    assert client.get("/api/v1/me", headers=headers).json["roles"] == ["artist", "beatmaker"]
    # The same token opens the studio: uploads need the role and the verified address, both there now.
    master = make_beat(tmp_path / "first.wav")
    upload = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data",
                         data={"title": "First beat", "bpm": "120",
                               "file": (io.BytesIO(master.read_bytes()), "first.wav")})
    assert upload.status_code == 202, upload.json
    # Still a buyer: the orders and licenses pages answer for the account as before.
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    assert client.get("/api/v1/licenses", headers=headers).status_code == 200


def _bought(buyer_email: str, seller_id: str) -> tuple[str, str]:
    """A paid order with its license, as checkout leaves them."""
    buyer, seller = services.find_user_by_email(buyer_email), services.get_user(seller_id)
    beat = catalog.create_beat(seller, title="Bought", bpm=140)
    tier = tiers.list_tiers(seller)[0]
    license_ = License(
        license_number="LIC-ROLE-0000-0000-0001", sale_reference=f"role-{beat.id}", beat_id=beat.id,
        tier_id=tier.id, buyer_id=buyer.id, seller_id=seller.id, kind=tier.kind, status=LicenseStatus.ACTIVE,
        buyer_name=buyer.display_name, price_amount=2999, currency="usd", terms={"tier_name": tier.name},
        credits=[], beat_snapshot={"title": beat.title, "beatmaker": seller.display_name}, contract_key=None)
    now = utcnow()
    order = Order(buyer_id=buyer.id, status=OrderStatus.PAID, currency="usd", subtotal_amount=2999,
                  total_amount=2999, expires_at=now + dt.timedelta(minutes=30), paid_at=now)
    db.session.add_all([license_, order])
    db.session.flush()
    return order.id, license_.id


def test_orders_and_licenses_stay_with_the_account(app, client, make_user):
    headers = _artist(app, client)
    seller_id = make_user(Role.BEATMAKER)
    with app.app_context():
        order_id, license_id = _bought("ann@example.com", seller_id)
        db.session.commit()
    assert client.post(BECOME, headers=headers).status_code == 200
    orders = client.get("/api/v1/orders", headers=headers)
    licenses = client.get("/api/v1/licenses", headers=headers)
    assert orders.status_code == licenses.status_code == 200
    assert order_id in str(orders.json) and license_id in str(licenses.json)


def test_asking_again_changes_nothing(app, client):
    headers = _artist(app, client)
    first = client.post(BECOME, headers=headers)
    again = client.post(BECOME, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json["roles"] == ["artist", "beatmaker"]
    assert _role_rows(app, "ann@example.com") == ["artist", "beatmaker"]


def test_an_unverified_address_is_refused_in_words(app, client, signed_in):
    headers = signed_in("ann@example.com", "artist")
    response = client.post(BECOME, headers=headers)
    assert response.status_code == 403
    error = response.json["error"]
    assert error["code"] == "email_not_verified"
    assert error["message"].startswith("Verify your email address to start selling beats")
    assert _role_rows(app, "ann@example.com") == ["artist"]


def test_a_suspended_account_is_refused_in_words(app, client):
    headers = _artist(app, client)
    with app.app_context():
        services.set_status(services.find_user_by_email("ann@example.com"), UserStatus.SUSPENDED)
        db.session.commit()
    response = client.post(BECOME, headers=headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "account_suspended"
    assert _role_rows(app, "ann@example.com") == ["artist"]


def test_a_suspended_account_is_refused_by_the_service_too(app):
    """A suspension landing between the token check and the change still refuses (409)."""
    from marketplace.accounts.roles import AccountSuspendedConflict, become_beatmaker
    with app.app_context():
        user = services.create_user("sus@example.com", DEFAULT_PASSWORD, "Sus", Role.ARTIST, verified=True)
        user.status = UserStatus.SUSPENDED
        try:
            become_beatmaker(user)
        except AccountSuspendedConflict as refused:
            assert refused.status == 409
            assert refused.message == "This account is suspended, so it cannot start selling beats."
        else:
            raise AssertionError("a suspended account became a beatmaker")
        db.session.rollback()


def test_concurrent_requests_give_the_role_once(app, live_server):
    with app.test_client() as client:
        headers = _artist(app, client, "race@example.com")
    clients = 6
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def become() -> None:
        barrier.wait()
        response = requests.post(f"{live_server}{BECOME}", headers=headers, timeout=30)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=become) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * clients
    with app.app_context():
        user = services.find_user_by_email("race@example.com")
        count = db.session.scalar(select(func.count()).select_from(UserRole).where(
            UserRole.user_id == user.id, UserRole.role == Role.BEATMAKER))
    assert count == 1
