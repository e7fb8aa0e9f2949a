"""Stripe's form encoding, decoded into nested dicts and lists.

Stripe's clients flatten nested parameters into bracketed keys:
``line_items[0][price_data][currency]=usd``, ``metadata[order_id]=ord_1``, ``expand[0]=x`` or
``expand[]=x``. Values stay strings: each endpoint's parameter checks convert them, as Stripe does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from marketplace.payments.sandbox.errors import ParamError

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(key, value)`` pairs in order; a later scalar for the same key wins.

    Keys made only of indexes become lists, ordered by index; ``[]`` appends.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        _assign(root, _path_of(key), value, key)
    return {name: _with_lists(child) if isinstance(child, dict) else child for name, child in root.items()}


def _path_of(key: str) -> list[str]:
    match = _NAME.fullmatch(key)
    if not match:
        raise ParamError(f"Invalid parameter name: {key}", key)
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _assign(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    for depth, segment in enumerate(path):
        name = segment if segment else str(len(node))  # "[]" appends
        if depth == len(path) - 1:
            if isinstance(node.get(name), dict):
                raise ParamError(f"Invalid parameter: {key} is both a value and a hash.", key)
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise ParamError(f"Invalid parameter: {key} is both a value and a hash.", key)
        node = child


def _with_lists(node: dict[str, Any]) -> dict[str, Any] | list[Any]:
    converted = {name: _with_lists(child) if isinstance(child, dict) else child
                 for name, child in node.items()}
    if converted and all(name.isdigit() for name in converted):
        return [converted[name] for name in sorted(converted, key=int)]
    return converted
