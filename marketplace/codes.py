"""The codes the API answers with, listed: every status, role and reason a field can hold.

The pages build their filters and their credit editor from this list instead of copying the
server's enumerations, so a status added here reaches every choice at once. The words shown
for each code stay the pages' own: a buyer and an admin read the same status differently.
The list changes only with a release, so browsers and proxies keep it for an hour.
"""

from __future__ import annotations

import enum

import marshmallow as ma

from marketplace.accounts.models import Role, UserStatus
from marketplace.api import Blueprint, json_response
from marketplace.catalog.credits import PRODUCER_ROLES, ROLE_LABELS, CreditRole
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import SAMPLE_DECLARATIONS
from marketplace.checkout.models import OrderStatus
from marketplace.licensing.models import SUPERSEDED, LicenseStatus
from marketplace.moderation.models import ReportReason, ReportStatus, RestrictionCause
from marketplace.payouts.models import TransferStatus

CODES_CACHE_SECONDS = 3600

blp = Blueprint("codes", __name__, description="Codes: every status, role and reason a field may hold")


def _values(codes: type[enum.StrEnum]) -> list[str]:
    return [code.value for code in codes]


def all_codes() -> dict[str, list]:
    """Each field's codes, in the order the enumerations declare them."""
    return {
        "beat_statuses": _values(BeatStatus),
        "samples": list(SAMPLE_DECLARATIONS),
        "hold_causes": _values(RestrictionCause),
        "order_statuses": _values(OrderStatus),
        "license_statuses": [LicenseStatus.ACTIVE.value, SUPERSEDED, LicenseStatus.REVOKED.value],
        "transfer_statuses": _values(TransferStatus),
        "report_statuses": _values(ReportStatus),
        "report_reasons": _values(ReportReason),
        "user_statuses": _values(UserStatus),
        "roles": _values(Role),
        "credit_roles": [{"code": role.value, "label": ROLE_LABELS[role], "producer": role in PRODUCER_ROLES}
                         for role in CreditRole],
    }


class CreditRoleCodeSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True, metadata={"description": 'how the role is credited: "Produced by"'})
    producer = ma.fields.Boolean(required=True, metadata={
        "description": "whether the role's names fill a credit line's {producers}"})


def _codes(description: str) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(), required=True, metadata={"description": description})


class CodesSchema(ma.Schema):
    beat_statuses = _codes("a beat's `status`")
    samples = _codes("what a beat declares of its `samples`")
    hold_causes = _codes("why a beat is held out of the store (`held_by[].cause`)")
    order_statuses = _codes("an order's `status`")
    license_statuses = _codes("a license's `status` as its owner reads it")
    transfer_statuses = _codes("a payout transfer's `status`")
    report_statuses = _codes("a report's `status`")
    report_reasons = _codes("a report's `reason`")
    user_statuses = _codes("an account's `status`")
    roles = _codes("an account's `roles`")
    credit_roles = ma.fields.List(ma.fields.Nested(CreditRoleCodeSchema), required=True,
                                  metadata={"description": "a credit's `role`, with its words"})


@blp.get("/codes")
@blp.response(200, CodesSchema)
def codes():
    """Every code a status, role or reason field may hold; the same for everyone, cacheable
    for an hour (it changes only with a release)."""
    response = json_response(all_codes())
    response.cache_control.public = True
    response.cache_control.max_age = CODES_CACHE_SECONDS
    return response
