from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts.schemas import PASSWORD_MAX


class CloseAccountSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=PASSWORD_MAX),
                                metadata={"description": "The account's current password."})
