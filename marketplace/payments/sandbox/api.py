"""Stripe's API under ``/v1``: the endpoints the marketplace calls, on Stripe's wire format.

Every call is authenticated with a test secret key, may be hit by a fault set up through the
controls, and runs on the locked state; POSTs honour ``Idempotency-Key``. Events a call emits
are delivered in the background after it answers, as Stripe does.

Payments move in `lifecycle`; Connect (accounts, account links, transfers and their reversals)
in `connect`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from marketplace.payments.sandbox import connect, idempotency, lifecycle, objects
from marketplace.payments.sandbox.errors import ParamError, StripeError, no_such
from marketplace.payments.sandbox.expansion import expanded, line_items_list
from marketplace.payments.sandbox.faults import misbehave
from marketplace.payments.sandbox.forms import decode_form
from marketplace.payments.sandbox.params import (
    Shape,
    boolean,
    country,
    currency,
    email,
    expand,
    integer,
    list_of,
    metadata,
    one_of,
    string,
    url,
)
from marketplace.payments.sandbox.service import current_sandbox
from marketplace.payments.sandbox.state import Change, StripeObject

api = Blueprint("stripe_api", __name__, url_prefix="/v1")

TEST_KEY_PREFIX = "sk_test_"

_PRODUCT_DATA = Shape({"name": string(), "description": string(), "metadata": metadata}, required=("name",))
_PRICE_DATA = Shape({"currency": currency, "unit_amount": integer(minimum=0), "product_data": _PRODUCT_DATA},
                    required=("currency", "unit_amount", "product_data"))
_LINE_ITEM = Shape({"price_data": _PRICE_DATA, "quantity": integer(minimum=1)},
                   required=("price_data", "quantity"))
_PAYMENT_INTENT_DATA = Shape({
    "metadata": metadata,
    "description": string(1000),
    "application_fee_amount": integer(minimum=0),
    "transfer_data": Shape({"destination": string()}, required=("destination",)),
    "transfer_group": string(),
})
SESSION_CREATE = Shape({
    "mode": one_of("payment"),
    "line_items": list_of(_LINE_ITEM),
    "success_url": url,
    "cancel_url": url,
    "client_reference_id": string(200),
    "customer_email": email,
    "metadata": metadata,
    "expires_at": integer(),
    "payment_intent_data": _PAYMENT_INTENT_DATA,
    "payment_method_types": list_of(string()),
    "locale": string(),
    "submit_type": one_of("auto", "book", "donate", "pay", "subscribe"),
    "expand": expand,
}, required=("mode", "line_items", "success_url"))
_LIMIT = integer(minimum=1, maximum=100)
SESSION_LIST = Shape({"payment_intent": string(), "status": one_of("open", "complete", "expired"),
                      "limit": _LIMIT, "starting_after": string(), "expand": expand})
CHARGE_LIST = Shape({"payment_intent": string(), "limit": _LIMIT, "starting_after": string(),
                     "expand": expand})
PAGE = Shape({"limit": _LIMIT, "expand": expand})
REFUND_CREATE = Shape({
    "payment_intent": string(),
    "charge": string(),
    "amount": integer(minimum=1),
    "reason": one_of("duplicate", "fraudulent", "requested_by_customer"),
    "metadata": metadata,
    "reverse_transfer": boolean,
    "refund_application_fee": boolean,
    "expand": expand,
})
RETRIEVE = Shape({"expand": expand})
NO_PARAMS = Shape({})

_CAPABILITY = Shape({"requested": boolean}, required=("requested",))
ACCOUNT_CREATE = Shape({
    "type": one_of("express", "custom", "standard"),
    "country": country,
    "email": email,
    "business_type": one_of("individual", "company", "non_profit", "government_entity"),
    "business_profile": Shape({"mcc": string(4), "name": string(), "product_description": string(),
                               "support_email": email, "support_phone": string(),
                               "support_url": string(5000), "url": string(5000)}),
    "capabilities": Shape({"card_payments": _CAPABILITY, "transfers": _CAPABILITY}),
    "metadata": metadata,
    "expand": expand,
}, required=("type",))  # Stripe would take `controller` instead, which the sandbox does not model
_REQUIREMENT_SET = one_of("currently_due", "eventually_due")
ACCOUNT_LINK_CREATE = Shape({
    "account": string(),
    "refresh_url": url,
    "return_url": url,
    "type": one_of("account_onboarding", "account_update"),
    "collect": _REQUIREMENT_SET,  # what the page would ask for: the sandbox's asks for nothing
    "collection_options": Shape({"fields": _REQUIREMENT_SET, "future_requirements": one_of("include", "omit")}),
    "expand": expand,
}, required=("account", "type", "refresh_url", "return_url"))
TRANSFER_CREATE = Shape({
    "amount": integer(minimum=1),
    "currency": currency,
    "destination": string(),
    "source_transaction": string(),
    "transfer_group": string(),
    "description": string(),
    "metadata": metadata,
    "expand": expand,
}, required=("amount", "currency", "destination"))
TRANSFER_LIST = Shape({"destination": string(), "transfer_group": string(), "limit": _LIMIT,
                       "starting_after": string(), "expand": expand})
REVERSAL_CREATE = Shape({
    "amount": integer(minimum=1),
    "description": string(),  # Stripe takes it and shows it nowhere on the reversal
    "metadata": metadata,
    "refund_application_fee": boolean,
    "expand": expand,
})
DEFAULT_PAGE_SIZE = 10

View = Callable[..., StripeObject]


@api.before_request
def authenticate_then_misbehave() -> Response | None:
    g.api_key = _api_key()
    fault = current_sandbox().faults.take(request.method, request.path)
    return misbehave(fault) if fault else None


def _api_key() -> str:
    """The secret key, sent as Bearer token (the SDK) or as Basic user name (``curl -u sk_test_...:``)."""
    auth = request.authorization
    key = (auth.token if auth.type == "bearer" else auth.username) if auth else None
    if not key:
        raise StripeError("You did not provide an API key. You need to provide your API key in the "
                          "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                          "YOUR_SECRET_KEY').", status=401)
    if not key.startswith(TEST_KEY_PREFIX):
        raise StripeError(f"Invalid API Key provided: {key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}. "
                          f"The sandbox accepts test keys ({TEST_KEY_PREFIX}...).", status=401)
    return key


def stripe_endpoint(shape: Shape) -> Callable[[View], Callable[..., Response]]:
    """Run a view on the locked state with the request's parameters checked by `shape`, and
    answer what it returns expanded as ``expand`` asks; replay or save idempotent answers;
    deliver the events it emitted once its change is saved."""

    def decorate(view: View) -> Callable[..., Response]:
        @functools.wraps(view)
        def endpoint(**path_args: str) -> Response:
            posting = request.method == "POST"
            params = decode_form((request.form if posting else request.args).items(multi=True))
            key = request.headers.get("Idempotency-Key") if posting else None
            if key is not None:
                idempotency.check_key(key)
            sandbox = current_sandbox()
            call = functools.partial(_call, view, shape, params, path_args)
            with sandbox.store.change({"id": g.request_id, "idempotency_key": key}) as change:
                status, body, replayed = _answer(change, call, params, key)
            sandbox.webhooks.dispatch(change.events, "async")
            response = jsonify(body)
            response.status_code = status
            if replayed:
                response.headers["Idempotent-Replayed"] = "true"
            return response

        return endpoint

    return decorate


def _answer(change: Change, call: Callable[[Change], idempotency.SavedAnswer], params: dict[str, Any],
            key: str | None) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed) of the call, from the idempotency store when it answered before."""
    if key is None:
        return *call(change), False
    fingerprint = idempotency.fingerprint(request.method, request.path, params)
    saved = idempotency.saved_answer(change.state, g.api_key, key, fingerprint, change.now)
    if saved is not None:
        return *saved, True
    answer = call(change)
    idempotency.save_answer(change.state, g.api_key, key, fingerprint, answer, change.now)
    return *answer, False


def _call(view: View, shape: Shape, params: dict[str, Any], path_args: dict[str, str],
          change: Change) -> idempotency.SavedAnswer:
    try:
        checked = shape(params)
        return 200, expanded(change.state, view(change, checked, **path_args), checked.get("expand", []))
    except ParamError:
        raise  # refused before doing anything: Stripe saves no answer, so the key may be used again
    except StripeError as error:
        return error.status, error.body()


def _hosted_page_base() -> str:
    """Where browsers reach the payment and onboarding pages."""
    return current_sandbox().public_url or request.host_url.rstrip("/")


def _page(items: list[StripeObject], url: str, checked: dict[str, Any]) -> StripeObject:
    """The first `limit` items as a Stripe list."""
    limit = checked.get("limit", DEFAULT_PAGE_SIZE)
    return objects.list_object(items[:limit], url, has_more=len(items) > limit)


@api.post("/checkout/sessions")
@stripe_endpoint(SESSION_CREATE)
def create_checkout_session(change: Change, params: dict[str, Any]) -> StripeObject:
    return lifecycle.create_session(change, params, _hosted_page_base())


@api.get("/checkout/sessions/<session_id>/line_items")
@stripe_endpoint(PAGE)
def list_session_line_items(change: Change, params: dict[str, Any], session_id: str) -> StripeObject:
    change.state.get("checkout.session", session_id)
    return line_items_list(change.state, session_id, params.get("limit", DEFAULT_PAGE_SIZE))


@api.post("/checkout/sessions/<session_id>/expire")
@stripe_endpoint(RETRIEVE)
def expire_checkout_session(change: Change, params: dict[str, Any], session_id: str) -> StripeObject:
    return lifecycle.expire_session(change, session_id)


@api.post("/refunds")
@stripe_endpoint(REFUND_CREATE)
def create_refund(change: Change, params: dict[str, Any]) -> StripeObject:
    return lifecycle.refund(change, payment_intent_id=params.get("payment_intent"),
                            charge_id=params.get("charge"), amount=params.get("amount"),
                            reason=params.get("reason"), metadata=params.get("metadata"),
                            reverse_transfer=params.get("reverse_transfer", False),
                            refund_application_fee=params.get("refund_application_fee", False))


@api.post("/accounts")
@stripe_endpoint(ACCOUNT_CREATE)
def create_account(change: Change, params: dict[str, Any]) -> StripeObject:
    return connect.create_account(change, params)


@api.delete("/accounts/<account_id>")
@stripe_endpoint(NO_PARAMS)
def delete_account(change: Change, params: dict[str, Any], account_id: str) -> StripeObject:
    return connect.delete_account(change, account_id)


@api.post("/account_links")
@stripe_endpoint(ACCOUNT_LINK_CREATE)
def create_account_link(change: Change, params: dict[str, Any]) -> StripeObject:
    return connect.create_account_link(change, params, _hosted_page_base())


@api.post("/transfers")
@stripe_endpoint(TRANSFER_CREATE)
def create_transfer(change: Change, params: dict[str, Any]) -> StripeObject:
    return connect.create_transfer(change, params)


@api.post("/transfers/<transfer_id>/reversals")
@stripe_endpoint(REVERSAL_CREATE)
def create_transfer_reversal(change: Change, params: dict[str, Any], transfer_id: str) -> StripeObject:
    return connect.reverse_transfer(change, transfer_id, params.get("amount"), metadata=params.get("metadata"),
                                    refund_application_fee=params.get("refund_application_fee", False))


@api.get("/transfers/<transfer_id>/reversals")
@stripe_endpoint(PAGE)
def list_transfer_reversals(change: Change, params: dict[str, Any], transfer_id: str) -> StripeObject:
    reversals = change.state.get("transfer", transfer_id)["reversals"]
    return _page(reversals["data"], reversals["url"], params)


# Plain retrievals: ``GET /v1/<collection>/<id>`` with ``expand``.
RETRIEVABLE = {"payment_intents": "payment_intent", "charges": "charge", "refunds": "refund",
               "disputes": "dispute", "events": "event", "checkout/sessions": "checkout.session",
               "accounts": "account", "transfers": "transfer", "application_fees": "application_fee"}


def _retriever(kind: str) -> View:
    def retrieve(change: Change, params: dict[str, Any], object_id: str) -> StripeObject:
        return change.state.get(kind, object_id)
    return retrieve


for _collection, _kind in RETRIEVABLE.items():
    api.add_url_rule(f"/{_collection}/<object_id>", f"retrieve_{_kind.replace('.', '_')}",
                     stripe_endpoint(RETRIEVE)(_retriever(_kind)), methods=["GET"])


# Plain listings: ``GET /v1/<collection>``, newest first, filtered by the fields their shape
# takes besides ``limit``, ``starting_after`` and ``expand`` (sessions by PaymentIntent or status,
# charges by PaymentIntent, transfers by destination or transfer group), a page after the
# object named by ``starting_after``.
LISTABLE = {"checkout/sessions": ("checkout.session", SESSION_LIST), "transfers": ("transfer", TRANSFER_LIST),
            "charges": ("charge", CHARGE_LIST)}
_PAGING = ("limit", "expand", "starting_after")


def _lister(kind: str, url: str) -> View:
    def list_newest_first(change: Change, params: dict[str, Any]) -> StripeObject:
        wanted = {field: value for field, value in params.items() if field not in _PAGING}
        matching = [found for found in reversed(change.state.all(kind))
                    if all(found[field] == value for field, value in wanted.items())]
        if "starting_after" in params:
            ids = [found["id"] for found in matching]
            if params["starting_after"] not in ids:
                raise no_such(kind.split(".")[-1], params["starting_after"], "starting_after")
            matching = matching[ids.index(params["starting_after"]) + 1:]
        return _page(matching, url, params)
    return list_newest_first


for _collection, (_kind, _shape) in LISTABLE.items():
    api.add_url_rule(f"/{_collection}", f"list_{_kind.replace('.', '_')}",
                     stripe_endpoint(_shape)(_lister(_kind, f"/v1/{_collection}")), methods=["GET"])
