"""Stripe's API under ``/v1``: the endpoints the marketplace calls, on Stripe's wire format.

Every call is authenticated with a test secret key, may be hit by a fault set up through the
controls, and runs on the locked state; POSTs honour ``Idempotency-Key``. Events a call emits
are delivered in the background after it answers, as Stripe does.

Connect (accounts, account links, transfers and their reversals) belongs here too, as more
routes over `lifecycle` functions of their own; the plumbing below serves them unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from marketplace.payments.sandbox import idempotency, lifecycle, objects
from marketplace.payments.sandbox.errors import ParamError, StripeError
from marketplace.payments.sandbox.expansion import expanded, line_items_list
from marketplace.payments.sandbox.faults import misbehave
from marketplace.payments.sandbox.forms import decode_form
from marketplace.payments.sandbox.params import (
    Shape,
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
SESSION_LIST = Shape({"payment_intent": string(), "status": one_of("open", "complete", "expired"),
                      "limit": integer(minimum=1, maximum=100), "expand": expand})
LINE_ITEMS_LIST = Shape({"limit": integer(minimum=1, maximum=100), "expand": expand})
REFUND_CREATE = Shape({
    "payment_intent": string(),
    "charge": string(),
    "amount": integer(minimum=1),
    "reason": one_of("duplicate", "fraudulent", "requested_by_customer"),
    "metadata": metadata,
    "expand": expand,
})
RETRIEVE = Shape({"expand": expand})
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


def stripe_endpoint(view: View) -> Callable[..., Response]:
    """Run a view on the locked state with the request's decoded parameters; replay or save
    idempotent answers; deliver the events it emitted once its change is saved."""

    @functools.wraps(view)
    def endpoint(**path_args: str) -> Response:
        posting = request.method == "POST"
        params = decode_form((request.form if posting else request.args).items(multi=True))
        key = request.headers.get("Idempotency-Key") if posting else None
        if key is not None:
            idempotency.check_key(key)
        sandbox = current_sandbox()
        with sandbox.store.change({"id": g.request_id, "idempotency_key": key}) as change:
            status, body, replayed = _answer(change, view, params, path_args, key)
        sandbox.webhooks.dispatch(change.events, "async")
        response = jsonify(body)
        response.status_code = status
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    return endpoint


def _answer(change: Change, view: View, params: dict[str, Any], path_args: dict[str, str],
            key: str | None) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed) of the call, from the idempotency store when it answered before."""
    if key is None:
        return *_call(change, view, params, path_args), False
    fingerprint = idempotency.fingerprint(request.method, request.path, params)
    saved = idempotency.saved_answer(change.state, g.api_key, key, fingerprint, change.now)
    if saved is not None:
        return *saved, True
    answer = _call(change, view, params, path_args)
    idempotency.save_answer(change.state, g.api_key, key, fingerprint, answer, change.now)
    return *answer, False


def _call(change: Change, view: View, params: dict[str, Any],
          path_args: dict[str, str]) -> idempotency.SavedAnswer:
    try:
        return 200, view(change, params, **path_args)
    except ParamError:
        raise  # refused before doing anything: Stripe saves no answer, so the key may be used again
    except StripeError as error:
        return error.status, error.body()


def _pay_page_base() -> str:
    return current_sandbox().public_url or request.host_url.rstrip("/")


@api.post("/checkout/sessions")
@stripe_endpoint
def create_checkout_session(change: Change, params: dict[str, Any]) -> StripeObject:
    checked = SESSION_CREATE(params)
    session = lifecycle.create_session(change, checked, _pay_page_base())
    return expanded(change.state, session, checked.get("expand", []))


@api.get("/checkout/sessions")
@stripe_endpoint
def list_checkout_sessions(change: Change, params: dict[str, Any]) -> StripeObject:
    """Newest first, filtered by PaymentIntent or status."""
    checked = SESSION_LIST(params)
    wanted = {field: checked[field] for field in ("payment_intent", "status") if field in checked}
    sessions = [session for session in reversed(change.state.all("checkout.session"))
                if all(session[field] == value for field, value in wanted.items())]
    limit = checked.get("limit", DEFAULT_PAGE_SIZE)
    page = objects.list_object(sessions[:limit], "/v1/checkout/sessions", has_more=len(sessions) > limit)
    return expanded(change.state, page, checked.get("expand", []))


@api.get("/checkout/sessions/<session_id>")
@stripe_endpoint
def retrieve_checkout_session(change: Change, params: dict[str, Any], session_id: str) -> StripeObject:
    checked = RETRIEVE(params)
    session = change.state.get("checkout.session", session_id)
    return expanded(change.state, session, checked.get("expand", []))


@api.get("/checkout/sessions/<session_id>/line_items")
@stripe_endpoint
def list_session_line_items(change: Change, params: dict[str, Any], session_id: str) -> StripeObject:
    checked = LINE_ITEMS_LIST(params)
    change.state.get("checkout.session", session_id)
    page = line_items_list(change.state, session_id, checked.get("limit", DEFAULT_PAGE_SIZE))
    return expanded(change.state, page, checked.get("expand", []))


@api.post("/checkout/sessions/<session_id>/expire")
@stripe_endpoint
def expire_checkout_session(change: Change, params: dict[str, Any], session_id: str) -> StripeObject:
    checked = RETRIEVE(params)
    session = lifecycle.expire_session(change, session_id)
    return expanded(change.state, session, checked.get("expand", []))


@api.post("/refunds")
@stripe_endpoint
def create_refund(change: Change, params: dict[str, Any]) -> StripeObject:
    checked = REFUND_CREATE(params)
    refund = lifecycle.refund(change, payment_intent_id=checked.get("payment_intent"),
                              charge_id=checked.get("charge"), amount=checked.get("amount"),
                              reason=checked.get("reason"), metadata=checked.get("metadata"))
    return expanded(change.state, refund, checked.get("expand", []))


# Plain retrievals: ``GET /v1/<collection>/<id>`` with ``expand``.
RETRIEVABLE = {"payment_intents": "payment_intent", "charges": "charge", "refunds": "refund",
               "disputes": "dispute", "events": "event"}


def _retriever(kind: str) -> View:
    def retrieve(change: Change, params: dict[str, Any], object_id: str) -> StripeObject:
        checked = RETRIEVE(params)
        return expanded(change.state, change.state.get(kind, object_id), checked.get("expand", []))
    return retrieve


for _collection, _kind in RETRIEVABLE.items():
    api.add_url_rule(f"/{_collection}/<object_id>", f"retrieve_{_kind}", stripe_endpoint(_retriever(_kind)),
                     methods=["GET"])
