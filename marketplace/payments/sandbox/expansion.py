"""Stripe's ``expand``: replace an id in an answer by the object it names, along a dotted path."""

from __future__ import annotations

import copy

from marketplace.payments.sandbox import objects
from marketplace.payments.sandbox.errors import ParamError
from marketplace.payments.sandbox.state import State, StripeObject


def expanded(state: State, stripe_object: StripeObject, paths: list[str]) -> StripeObject:
    """A copy of the object with each path expanded: ``payment_intent``, ``payment_intent.latest_charge``,
    or through a list's items, ``data.payment_intent``."""
    answer = copy.deepcopy(stripe_object)
    for index, path in enumerate(paths):
        _expand(state, answer, path.split("."), f"expand[{index}]")
    return answer


def _expand(state: State, node: StripeObject, fields: list[str], param: str) -> None:
    field, rest = fields[0], fields[1:]
    value = node.get(field)
    if field == "line_items" and node.get("object") == "checkout.session":
        value = line_items_list(state, node["id"])
    elif isinstance(value, str) and objects.kind_of(value):
        value = copy.deepcopy(state.get(objects.kind_of(value), value))
    elif value is None and field in node:
        return  # nothing to expand yet, as with the payment of a session not paid
    elif not isinstance(value, (dict, list)):
        raise ParamError(f"This property cannot be expanded ({field}).", param)
    node[field] = value
    if not rest:
        return
    for child in value if isinstance(value, list) else [value]:  # a list's items: "data.payment_intent"
        _expand(state, child, rest, param)


def line_items_list(state: State, session_id: str, limit: int | None = None) -> StripeObject:
    items = state.session_inputs[session_id]["line_items"]
    shown = items if limit is None else items[:limit]
    return objects.list_object(copy.deepcopy(shown), f"/v1/checkout/sessions/{session_id}/line_items",
                               has_more=len(shown) < len(items))
