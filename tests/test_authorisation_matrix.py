"""Who may call what: every /api/v1 endpoint of the app's URL map, called by each kind of
caller, answers the status this table expects. An endpoint without a row fails the test, so
a new endpoint cannot ship without a decision about who may call it.

Callers: anonymous (no token), an artist, the beatmaker who owns the test world's beat,
listing, tier, coupon and deal (owner), another beatmaker (other), an admin, and a suspended
beatmaker whose token was issued before the suspension. The artist bought the world's
license. Requests carry a body that is valid for the caller allowed to act, so an allowed
caller gets its success status and everyone else the refusal; a few rows expect a 4xx for
the allowed caller too, where that is the documented answer to the body sent (for example an
upload without a file). Callers go in the order of ACTORS, so a change made by one (the
owner archiving the beat) happens after the refusals of the others."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.checkout.models import BulkDeal, Coupon, ItemStatus, Order, OrderItem, OrderStatus
from marketplace.collaborators import services as collaborators
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs.failures import FailedJob, args_key
from marketplace.licensing import tiers
from marketplace.licensing.models import License, LicenseStatus
from marketplace.moderation import reports, users
from marketplace.moderation.audit import CLI
from marketplace.moderation.models import BeatRestriction, RestrictionCause
from marketplace.payouts.models import PayoutTransfer, TransferStatus
from marketplace.proposals.models import Proposal
from marketplace.storage.service import storage
from tests.conftest import DEFAULT_PASSWORD, make_test_app

ACTORS = ("anonymous", "suspended", "artist", "other", "owner", "admin")
PREFIX = "/api/v1"
# API endpoints served at the site's root, where standards put them: listed by their full path.
ROOT_PREFIXES = ("/.well-known/",)


@dataclasses.dataclass
class World:
    tokens: dict[str, str]
    ids: dict[str, str]


def _user(role: Role, name: str) -> User:
    return accounts.create_user(f"{name.lower()}@matrix.example.com", DEFAULT_PASSWORD, name, role, verified=True)


def _stored(key: str, content: bytes, content_type: str) -> str:
    storage().save(key, io.BytesIO(content), content_type)
    return key


def _published_beat(owner: User, title: str) -> Any:
    beat = catalog.create_beat(owner, title=title, bpm=140)
    beat.preview_key = _stored(f"previews/{beat.id}.mp3", b"ID3" + b"\x00" * 64, "audio/mpeg")
    beat.waveform_key = _stored(f"waveforms/{beat.id}.json", b'{"version": 2, "data": []}', "application/json")
    beat.cover_key = _stored(f"covers/{beat.id}.png", b"\x89PNG\r\n\x1a\n", "image/png")
    beat.cover_content_type = "image/png"
    catalog.publish(beat)
    return beat


def _sold_license(beat: Any, tier: Any, buyer: User) -> License:
    license_ = License(
        license_number="LIC-MTRX-0000-0000-0001", sale_reference=f"matrix-{beat.id}", beat_id=beat.id,
        tier_id=tier.id, buyer_id=buyer.id, seller_id=beat.owner_id, kind=tier.kind, status=LicenseStatus.ACTIVE,
        buyer_name=buyer.display_name, price_amount=2999, currency="usd", terms={"tier_name": tier.name},
        credits=[], beat_snapshot={"title": beat.title, "beatmaker": beat.owner.display_name},
        contract_key=_stored(f"contracts/matrix-{beat.id}.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))
    db.session.add(license_)
    db.session.flush()
    return license_


def _paid_order(beat: Any, tier: Any, buyer: User, license_: License) -> Order:
    """Paid, with a refund already asked for: refunding again answers at once, without Stripe."""
    now = utcnow()
    order = Order(buyer_id=buyer.id, status=OrderStatus.PAID, currency="usd", subtotal_amount=2999,
                  total_amount=2999, expires_at=now + dt.timedelta(minutes=30), paid_at=now,
                  refund_requested_at=now)
    order.items = [OrderItem(position=0, beat_id=beat.id, tier_id=tier.id, seller_id=beat.owner_id, kind=tier.kind,
                             status=ItemStatus.LICENSED, beat_title=beat.title, tier_name=tier.name,
                             list_price_amount=2999, discount_amount=0, price_amount=2999, terms={},
                             license_id=license_.id)]
    db.session.add(order)
    db.session.flush()
    return order


def _held(beat: Any, cause: RestrictionCause) -> None:
    beat.status = BeatStatus.TAKEN_DOWN
    db.session.add(BeatRestriction(beat_id=beat.id, cause=cause, reason="Held for the matrix.",
                                   restore_to=BeatStatus.PUBLISHED))


def build_world() -> World:
    artist, owner = _user(Role.ARTIST, "Artist"), _user(Role.BEATMAKER, "Owner")
    owner.handle = owner.handle_key = "owner.matrix"  # a public profile
    other, admin = _user(Role.BEATMAKER, "Other"), _user(Role.ADMIN, "Admin")
    suspended, reporter = _user(Role.BEATMAKER, "Suspended"), _user(Role.ARTIST, "Reporter")
    tokens = {name: accounts.issue_token(user).access_token for name, user in
              (("artist", artist), ("owner", owner), ("other", other), ("admin", admin), ("suspended", suspended))}
    accounts.set_status(suspended, UserStatus.SUSPENDED)
    beat = _published_beat(owner, "Matrix")
    taken_down, in_review = _published_beat(owner, "Taken down"), _published_beat(owner, "In review")
    _held(taken_down, RestrictionCause.TAKEDOWN)
    _held(in_review, RestrictionCause.REVIEW)
    tier = tiers.list_tiers(owner)[0]
    license_ = _sold_license(beat, tier, artist)
    order = _paid_order(beat, tier, artist, license_)
    coupon = Coupon(owner_id=owner.id, code="MATRIX", kind="percent", percent_off=10, currency="usd")
    db.session.add_all([coupon, BulkDeal(owner_id=owner.id, buy_count=2, free_count=1)])
    report = reports.file_report(reporter, beat.id, "copyright", "Mine.")
    strike = users.strike(owner, CLI, "A first warning.")
    # Refused by Stripe: an admin may ask again (a job then plans a new attempt).
    transfer = PayoutTransfer(payee_id=owner.id, order_id=None, destination="acct_matrix", amount=100,
                              currency="usd", transfer_group=f"payee-{owner.id}", allocation=[],
                              status=TransferStatus.FAILED, failure_code="account_invalid")
    # A contract whose job failed every retry: an admin may retry it.
    failed_job = FailedJob(job="licensing.render_contract", args=[license_.id],
                           args_key=args_key([license_.id]), error="ContractIncomplete: for the matrix",
                           attempts=6)
    # An offer of the artist on the beat, waiting for the owner's answer.
    proposal = Proposal(beat_id=beat.id, tier_id=tier.id, artist_id=artist.id, seller_id=owner.id,
                        currency="usd", amount=2000, message="Matrix offer", slot=1,
                        expires_at=utcnow() + dt.timedelta(days=1))
    db.session.add_all([transfer, failed_job, proposal])
    # The owner invited the artist to be credited on the beat: the artist answers, the owner manages it.
    invitation = collaborators.invite(beat, owner, name="Artist", role="mix_engineer", email=artist.email)
    db.session.flush()
    ids = {"beat_id": beat.id, "taken_down_beat": taken_down.id, "review_beat": in_review.id, "tier_id": tier.id,
           "license_id": license_.id, "license_number": license_.license_number, "order_id": order.id,
           "coupon_id": coupon.id, "report_id": report.id, "user_id": owner.id, "suspended_user": suspended.id,
           "strike_id": strike.id, "owner_id": owner.id, "transfer_id": transfer.id,
           "failure_id": failed_job.id, "handle": owner.handle, "invitation_id": invitation.id,
           "int:number": "1", "proposal_id": proposal.id}
    return World(tokens, ids)


@dataclasses.dataclass(frozen=True)
class Rule:
    expected: dict[str, int]
    body: Any = None  # JSON body (a function of the world's ids when it needs them); None: no body
    ids: dict[str, str] = dataclasses.field(default_factory=dict)  # path parameter -> world id other than its own


def everyone(status: int, **kwargs: Any) -> Rule:
    return Rule({actor: status for actor in ACTORS}, **kwargs)


def signed_in(status: int, **kwargs: Any) -> Rule:
    """Any signed-in user may; a suspended one is refused."""
    return Rule({"anonymous": 401, "suspended": 403, "artist": status, "other": status, "owner": status,
                 "admin": status}, **kwargs)


def public_read(status: int = 200) -> Rule:
    """Anyone may read; a suspended user's token is refused even here (every token is checked)."""
    return Rule({**{actor: status for actor in ACTORS}, "suspended": 403})


def beatmakers(owner: int, other: int | None = None, **kwargs: Any) -> Rule:
    """Beatmaker accounts only; `other` is what a beatmaker who does not own the thing gets."""
    return Rule({"anonymous": 401, "suspended": 403, "artist": 403, "admin": 403, "owner": owner,
                 "other": owner if other is None else other}, **kwargs)


def admins(status: int, **kwargs: Any) -> Rule:
    return Rule({"anonymous": 401, "suspended": 403, "artist": 403, "other": 403, "owner": 403, "admin": status},
                **kwargs)


def by(anonymous: int, suspended: int, artist: int, other: int, owner: int, admin: int, **kwargs: Any) -> Rule:
    return Rule({"anonymous": anonymous, "suspended": suspended, "artist": artist, "other": other, "owner": owner,
                 "admin": admin}, **kwargs)


REASON = {"reason": "Checked by the matrix."}


def credits_of_owner(ids: dict[str, str]) -> list[dict[str, Any]]:
    return [{"name": "Owner", "user_id": ids["owner_id"], "role": "producer", "profit_share_bps": 10000}]



RULES: dict[tuple[str, str], Rule] = {
    # accounts
    ("POST", "/auth/register"): everyone(422, body={}),
    ("POST", "/auth/login"): everyone(422, body={}),
    ("POST", "/auth/logout"): signed_in(204),
    ("POST", "/auth/password-reset"): everyone(422, body={}),
    ("POST", "/auth/verify-email"): everyone(422, body={}),
    ("POST", "/mail-preferences/unsubscribe"): everyone(422),  # no token
    ("POST", "/me/verification-email"): signed_in(409),  # already verified
    ("POST", "/auth/password-reset/complete"): everyone(422, body={}),
    ("POST", "/auth/logout-everywhere"): signed_in(204),
    ("GET", "/me/sessions"): signed_in(200),
    ("DELETE", "/me/sessions/<session_id>"): signed_in(404, ids={"session_id": "user_id"}),  # not a session of theirs
    ("POST", "/me/password"): signed_in(422, body={}),
    ("POST", "/me/email"): signed_in(422, body={}),
    ("GET", "/me/email-change"): signed_in(204),  # none pending
    ("DELETE", "/me/email-change"): signed_in(204),
    ("POST", "/auth/confirm-email"): everyone(422, body={}),
    ("POST", "/me/close"): signed_in(422, body={}),
    ("GET", "/me/export"): signed_in(200),

    ("GET", "/me/mail-preferences"): signed_in(200),
    ("PATCH", "/me/mail-preferences"): signed_in(200, body={"sale_notices": False}),
    ("GET", "/me"): signed_in(200),
    # an admin account does not sell (it judges sellers); a beatmaker asking again changes nothing
    ("POST", "/me/become-beatmaker"): by(401, 403, 200, 200, 200, 403),
    # catalogue
    ("GET", "/beats"): everyone(200),
    ("GET", "/catalog/vocabulary"): everyone(200),
    ("GET", "/codes"): everyone(200),  # reads no token: the same codes for all
    ("POST", "/beats"): beatmakers(422),  # no file sent: the beatmaker's answer is a validation error
    ("GET", "/beats/<beat_id>"): public_read(),
    ("GET", "/uploads/formats"): everyone(200),  # reads no token: the same facts for all
    ("PATCH", "/beats/<beat_id>"): beatmakers(200, 403, body={}),
    ("DELETE", "/beats/<beat_id>"): beatmakers(200, 403),
    ("GET", "/beats/<beat_id>/cover"): public_read(),
    ("GET", "/beats/<beat_id>/credits"): public_read(),
    ("PUT", "/beats/<beat_id>/credits"): beatmakers(200, 403, body=credits_of_owner),
    ("GET", "/beats/<beat_id>/preview"): public_read(),
    ("GET", "/beats/<beat_id>/waveform"): public_read(),
    ("PUT", "/beats/<beat_id>/offers"): beatmakers(200, 403, body=[]),
    # replacing files: no file sent is the owner's validation error; the world's beat has nothing to
    # cancel (404) or try again (409)
    ("GET", "/beats/<beat_id>/files"): beatmakers(200, 403),
    ("PUT", "/beats/<beat_id>/master"): beatmakers(422),
    ("PUT", "/beats/<beat_id>/stems"): beatmakers(422),
    ("PUT", "/beats/<beat_id>/cover"): beatmakers(422),
    ("DELETE", "/beats/<beat_id>/master/replacement"): beatmakers(404, 403),
    ("POST", "/beats/<beat_id>/retry"): beatmakers(409, 403),
    ("GET", "/me/beats"): beatmakers(200),
    ("GET", "/me/voice-tag"): beatmakers(200),
    ("PUT", "/me/voice-tag"): beatmakers(422),  # no file sent
    ("PATCH", "/me/voice-tag"): beatmakers(200, body={"gain_db": -3}),
    ("DELETE", "/me/voice-tag"): beatmakers(200),
    # producer profiles
    ("GET", "/me/profile"): signed_in(200),
    ("PUT", "/me/profile"): signed_in(422, body={}),
    ("POST", "/me/profile/avatar"): signed_in(422),  # no file sent
    ("GET", "/handles/<handle>"): public_read(),
    ("GET", "/profiles/<handle>"): everyone(200),  # reads no token: the same page for all
    ("GET", "/profiles/<handle>/avatar"): everyone(404),  # the profile has no avatar
    # licensing
    ("GET", "/license-tiers"): beatmakers(200),
    ("POST", "/license-tiers"): beatmakers(422, body={}),
    ("PATCH", "/license-tiers/<tier_id>"): beatmakers(200, 404, body={"name": "Renamed"}),
    ("DELETE", "/license-tiers/<tier_id>"): beatmakers(204, 404),
    ("GET", "/licenses"): signed_in(200),
    ("GET", "/licenses/<license_id>"): by(401, 403, artist=200, other=404, owner=404, admin=200),
    ("GET", "/licenses/<license_id>/contract.pdf"): by(401, 403, artist=200, other=404, owner=404, admin=200),
    ("GET", "/licenses/<license_id>/downloads"): by(401, 403, artist=200, other=404, owner=404, admin=404),
    ("GET", "/licenses/<license_id>/upgrades"): by(401, 403, artist=200, other=404, owner=404, admin=404),
    ("GET", "/licenses/verify/<license_number>"): everyone(200),
    # the world's beat offers no free download: every signed-in caller is told so
    ("POST", "/beats/<beat_id>/free-download"): signed_in(409),
    ("GET", "/me/free-downloads"): beatmakers(200),

    # price proposals: the artist's offer on the owner's beat, waiting for the owner
    ("POST", "/proposals"): by(401, 403, artist=422, other=403, owner=403, admin=403,
                               body=lambda ids: {"beat_id": ids["beat_id"], "tier_id": ids["tier_id"],
                                                 "amount": 1}),
    ("GET", "/proposals"): by(401, 403, artist=200, other=403, owner=403, admin=403),
    ("GET", "/studio/proposals"): beatmakers(200),
    ("POST", "/proposals/<proposal_id>/accept"): by(401, 403, artist=409, other=404, owner=200, admin=404),
    ("POST", "/proposals/<proposal_id>/decline"): by(401, 403, artist=409, other=404, owner=200, admin=404),
    ("POST", "/proposals/<proposal_id>/counter"): by(401, 403, artist=403, other=404, owner=200, admin=403,
                                                     body={"amount": 3000, "message": "Meet me halfway"}),
    ("POST", "/proposals/<proposal_id>/withdraw"): by(401, 403, artist=200, other=403, owner=403, admin=403),
    ("GET", "/studio/proposal-terms"): beatmakers(200),
    ("PUT", "/studio/proposal-terms/<tier_id>"): beatmakers(200, 404,
                                                            body={"open": True, "minimum_amount": 1000}),
    # checkout and payments
    ("POST", "/checkout"): signed_in(422, body={}),
    ("POST", "/checkout/quote"): signed_in(422, body={}),
    ("GET", "/orders"): signed_in(200),
    ("GET", "/orders/<order_id>"): by(401, 403, artist=200, other=404, owner=404, admin=200),
    ("POST", "/orders/<order_id>/refund"): admins(202),
    ("GET", "/coupons"): beatmakers(200),
    ("POST", "/coupons"): beatmakers(422, body={}),
    ("PATCH", "/coupons/<coupon_id>"): beatmakers(200, 404, body={"active": True}),
    ("DELETE", "/coupons/<coupon_id>"): beatmakers(200, 404),
    ("GET", "/deal"): beatmakers(200, 404),
    ("PUT", "/deal"): beatmakers(200, body={"buy_count": 3, "free_count": 1}),
    ("DELETE", "/deal"): beatmakers(204),
    ("POST", "/payments/stripe/webhook"): everyone(400, body={}),  # no valid Stripe signature
    # the API's own documents
    ("GET", "/docs"): everyone(200),
    ("GET", "/openapi.json"): everyone(200),
    # moderation: everyone's side
    ("POST", "/beats/<beat_id>/reports"): by(401, 403, artist=201, other=201, owner=403, admin=201,
                                             body={"reason": "spam"}),
    ("GET", "/beats/<beat_id>/reports"): by(401, 403, artist=403, other=403, owner=200, admin=200),
    ("GET", "/me/reports"): beatmakers(200),
    ("GET", "/me/moderation"): signed_in(200),
    # moderation: admins
    ("GET", "/admin/reports"): admins(200),
    ("GET", "/admin/reports/<report_id>"): admins(200),
    ("POST", "/admin/reports/<report_id>/resolve"): admins(200, body={"action": "dismiss", "note": "Fine."}),
    ("GET", "/admin/beats"): admins(200),
    ("GET", "/admin/beats/<beat_id>"): admins(200),
    ("POST", "/admin/beats/<beat_id>/takedown"): admins(200, body=REASON),
    ("POST", "/admin/beats/<beat_id>/restore"): admins(200, body={}, ids={"beat_id": "taken_down_beat"}),
    ("POST", "/admin/beats/<beat_id>/revoke-licenses"): admins(200, body=REASON),
    ("GET", "/admin/review-queue"): admins(200),
    ("POST", "/admin/beats/<beat_id>/approve"): admins(200, body={}, ids={"beat_id": "review_beat"}),
    ("POST", "/admin/beats/<beat_id>/reject"): admins(200, body=REASON, ids={"beat_id": "review_beat"}),
    ("GET", "/admin/users"): admins(200),
    ("GET", "/admin/users/<user_id>"): admins(200),
    ("POST", "/admin/users/<user_id>/strike"): admins(200, body=REASON),
    ("POST", "/admin/users/<user_id>/suspend"): admins(200, body=REASON),
    ("POST", "/admin/users/<user_id>/unsuspend"): admins(200, body={}, ids={"user_id": "suspended_user"}),
    ("POST", "/admin/strikes/<strike_id>/lift"): admins(200, body=REASON),
    ("GET", "/admin/audit-log"): admins(200),
    ("GET", "/admin/audit-log.csv"): admins(200),
    # payouts: anyone may see the fee; a payee's own account, balance, ledger and sales
    ("GET", "/payouts/fee"): everyone(200),
    ("POST", "/payouts/account"): signed_in(422),  # no country sent
    ("GET", "/payouts/account"): signed_in(200),
    ("GET", "/payouts/balance"): signed_in(200),
    ("GET", "/payouts/ledger"): signed_in(200),
    ("GET", "/payouts/sales"): signed_in(200),
    ("GET", "/payouts/sales.csv"): signed_in(200),
    ("GET", "/admin/payouts/fees"): admins(200),
    # charts
    ("GET", "/me/stats"): beatmakers(200),
    ("GET", "/admin/stats"): admins(200),
    ("GET", "/admin/payouts/transfers"): admins(200),
    # The world's failed transfer has no payable account behind it: the admin is told why (409).
    ("POST", "/admin/payouts/transfers/<transfer_id>/retry"): admins(409),
    # collaborators: the owner invites and manages invitations; the invitee (the artist) answers
    ("POST", "/beats/<beat_id>/invitations"): beatmakers(201, 403, body={
        "email": "guest@matrix.example.com", "name": "Guest", "role": "mix_engineer"}),
    ("GET", "/beats/<beat_id>/invitations"): beatmakers(200, 403),
    ("POST", "/credit-invitations/<invitation_id>/reinvite"): beatmakers(200, 404),
    ("POST", "/credit-invitations/<invitation_id>/cancel"): beatmakers(200, 404),
    ("GET", "/me/credit-invitations"): signed_in(200),
    ("POST", "/me/credit-invitations/<invitation_id>/accept"): by(401, 403, artist=200, other=404, owner=404,
                                                                  admin=404),
    ("POST", "/me/credit-invitations/<invitation_id>/decline"): by(401, 403, artist=200, other=404, owner=404,
                                                                   admin=404),
    ("POST", "/credit-invitations/lookup"): everyone(422, body={}),  # no token sent
    ("POST", "/credit-invitations/accept"): signed_in(422, body={}),
    ("POST", "/credit-invitations/decline"): everyone(422, body={}),
    # the split sheet: the owner and the beat's collaborators (the artist is invited), nobody else
    ("GET", "/beats/<beat_id>/split-sheet"): by(401, 403, artist=200, other=404, owner=200, admin=404),
    ("GET", "/beats/<beat_id>/split-sheet/versions"): by(401, 403, artist=200, other=404, owner=200, admin=404),
    # the split sheet of a version as a PDF: for the same people as the version itself
    ("GET", "/beats/<beat_id>/split-sheet/versions/<int:number>.pdf"): by(401, 403, artist=200, other=404, owner=200,
                                                                            admin=404),
    ("GET", "/beats/<beat_id>/split-sheet/versions/<int:number>"): by(401, 403, artist=200, other=404, owner=200,
                                                                      admin=404),
    # version 1 is no longer in question (superseded when the artist was invited): nothing to accept
    ("POST", "/beats/<beat_id>/split-sheet/versions/<int:number>/accept"): by(401, 403, artist=409, other=404,
                                                                              owner=409, admin=404),
    # background jobs that failed every retry
    ("POST", "/admin/trace"): admins(422),  # no file sent
    ("GET", "/admin/jobs/failed"): admins(200),
    ("POST", "/admin/jobs/failed/<failure_id>/retry"): admins(202),
    # the public keys that sign license certificates: anyone, and a token is not even looked at
    ("GET", "/.well-known/jwks.json"): everyone(200),
}


def api_endpoints(app) -> list[tuple[str, str]]:
    """(method, rule without the prefix) of every /api/v1 endpoint the app serves, and of those
    at the site's root (ROOT_PREFIXES) by their full path."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") or rule.rule.startswith(ROOT_PREFIXES):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((method, rule.rule.removeprefix(PREFIX)))
    return sorted(found, key=lambda key: (key[1], key[0]))


# Collected from an app of its own, since the tests are generated before any fixture runs.
ENDPOINTS = api_endpoints(make_test_app("sqlite://"))


def test_the_table_has_a_row_for_every_endpoint_and_no_other():
    served = set(ENDPOINTS)
    assert sorted(served - set(RULES)) == [], "endpoints without an authorisation rule"
    assert sorted(set(RULES) - served) == [], "rules for endpoints that do not exist"


def _path(rule: str, world: World, overrides: dict[str, str]) -> str:
    path = rule if rule.startswith(ROOT_PREFIXES) else PREFIX + rule
    for name, key in {**{name: name for name in world.ids}, **overrides}.items():
        path = path.replace(f"<{name}>", world.ids[key])
    assert "<" not in path, f"no value for a path parameter of {rule}"
    return path


@pytest.mark.parametrize("method, rule", ENDPOINTS, ids=[f"{m} {r}" for m, r in ENDPOINTS])
def test_each_caller_gets_the_expected_status(app, client, method, rule):
    if (method, rule) not in RULES:
        pytest.fail(f"{method} {PREFIX}{rule} has no authorisation rule: add one to RULES")
    spec = RULES[(method, rule)]
    with app.app_context():
        world = build_world()
        db.session.commit()
    path = _path(rule, world, spec.ids)
    body = spec.body(world.ids) if callable(spec.body) else spec.body
    answers = {}
    for actor in ACTORS:
        headers = {"Authorization": f"Bearer {world.tokens[actor]}"} if actor in world.tokens else {}
        kwargs = {"json": body} if body is not None else {}
        answers[actor] = client.open(path, method=method, headers=headers, **kwargs).status_code
    assert answers == spec.expected
