"""The shapes many answers share: an amount of money, and a page of a keyset listing with
the arguments that ask for one."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate


class MoneySchema(ma.Schema):
    amount = ma.fields.Integer(required=True, metadata={"description": "integer minor units"})
    currency = ma.fields.String(required=True, metadata={"example": "usd"})


def page_of(item_schema: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """A page of a keyset listing: its items and the cursor of the next page. The spec names
    it `name`, or after its items (AuditEntrySchema: AuditEntryPage)."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True,
                                        metadata={"description": "pass as cursor for the next page; null at the end"}),
    }, name=name or item_schema.__name__.removesuffix("Schema") + "Page")


def cursor_field() -> ma.fields.String:
    """The `cursor` argument of a listing paged by id: the last id of the page before."""
    return ma.fields.String(validate=validate.Length(min=1, max=64),
                            metadata={"description": "next_cursor of the previous page"})


def limit_field(default: int = 50, most: int = 200) -> ma.fields.Integer:
    """The `limit` argument of a listing: how many rows a page holds."""
    return ma.fields.Integer(load_default=default, validate=validate.Range(min=1, max=most))
