"""Declarative parameter checks with Stripe's messages.

A check is a callable ``(raw value, param path) -> clean value`` that raises `ParamError`
naming the parameter the way Stripe does (``line_items[0][price_data][currency]``). `Shape`
refuses any key it does not list, at every depth, which is what makes a typo in the app's
request fail here as it would against Stripe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from marketplace.payments.sandbox.errors import ParamError, missing_param, unknown_param

Check = Callable[[Any, str], Any]

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500


def child(param: str, key: str | int) -> str:
    return f"{param}[{key}]" if param else str(key)


class Shape:
    """A hash with known keys; `required` keys must be present."""

    def __init__(self, fields: Mapping[str, Check], required: tuple[str, ...] = ()) -> None:
        self.fields = fields
        self.required = required

    def __call__(self, value: Any, param: str = "") -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {param} must be a hash.", param)
        for key in value:
            if key not in self.fields:
                raise unknown_param(child(param, key))
        for key in self.required:
            if key not in value:
                raise missing_param(child(param, key))
        return {key: self.fields[key](raw, child(param, key)) for key, raw in value.items()}


def list_of(check: Check) -> Check:
    def checked(value: Any, param: str) -> list[Any]:
        if not isinstance(value, list):
            raise ParamError(f"Invalid array: {param} must be an array.", param)
        return [check(item, child(param, index)) for index, item in enumerate(value)]
    return checked


def string(max_length: int | None = None) -> Check:
    def checked(value: Any, param: str) -> str:
        if not isinstance(value, str):
            raise ParamError(f"Invalid string: {param} must be a string.", param)
        if value == "":
            raise ParamError(
                f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
                f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
                "from your request or supply a non-empty value.", param, "parameter_invalid_empty")
        if max_length is not None and len(value) > max_length:
            raise ParamError(f"Invalid string: {param} must be at most {max_length} characters long.",
                             param, "string_length_exceeds_maximum")
        return value
    return checked


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    def checked(value: Any, param: str) -> int:
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text is None or not text.lstrip("-").isdigit():
            raise ParamError(f"Invalid integer: {value}", param, "parameter_invalid_integer")
        number = int(text)
        if minimum is not None and number < minimum:
            raise ParamError(f"This value must be greater than or equal to {minimum}.", param)
        if maximum is not None and number > maximum:
            raise ParamError(f"This value must be less than or equal to {maximum}.", param)
        return number
    return checked


def one_of(*choices: str) -> Check:
    def checked(value: Any, param: str) -> str:
        if value not in choices:
            raise ParamError(f"Invalid {param}: must be one of {', '.join(choices)}", param)
        return value
    return checked


def boolean(value: Any, param: str) -> bool:
    """Stripe's form booleans: the words ``true`` and ``false``."""
    if value not in ("true", "false"):
        raise ParamError(f"Invalid boolean: {value}", param)
    return value == "true"


def country(value: Any, param: str) -> str:
    if not (isinstance(value, str) and len(value) == 2 and value.isalpha()):
        raise ParamError(f"Country '{value}' is unknown. Try using a 2-character alphanumeric country code "
                         "instead, such as 'US', 'EG', or 'GB'.", param)
    return value.upper()


def currency(value: Any, param: str) -> str:
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha()):
        raise ParamError(f"Invalid currency: {value}. Stripe currencies are three-letter ISO codes.", param)
    return value.lower()


def url(value: Any, param: str) -> str:
    """Only http(s) URLs: the hosted page links to them, so nothing else may get that far."""
    text = string(5000)(value, param)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParamError("Not a valid URL", param, "url_invalid")
    return text


def email(value: Any, param: str) -> str:
    text = string(800)(value, param)
    local, _, domain = text.partition("@")
    if not local or "." not in domain or " " in text:
        raise ParamError(f"Invalid email address: {text}", param, "email_invalid")
    return text


def metadata(value: Any, param: str) -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; an empty value unsets."""
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ParamError(f"Invalid object: {param} must be a hash.", param)
    if len(value) > METADATA_MAX_KEYS:
        raise ParamError(f"Invalid {param}: metadata can have at most {METADATA_MAX_KEYS} keys; "
                         f"you passed {len(value)}.", param)
    for key, item in value.items():
        if len(key) > METADATA_KEY_MAX_LENGTH:
            raise ParamError(f"Metadata keys can have up to {METADATA_KEY_MAX_LENGTH} characters, but "
                             f"the key '{key}' has {len(key)}.", child(param, key))
        if not isinstance(item, str):
            raise ParamError(f"Invalid string: metadata values must be strings ({key}).", child(param, key))
        if len(item) > METADATA_VALUE_MAX_LENGTH:
            raise ParamError(f"Metadata values can have up to {METADATA_VALUE_MAX_LENGTH} characters, but "
                             f"the value for '{key}' has {len(item)}.", child(param, key))
    return {key: item for key, item in value.items() if item != ""}


expand = list_of(string())
