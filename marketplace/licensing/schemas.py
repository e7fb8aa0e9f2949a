from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from marketplace.api.schemas import MoneySchema
from marketplace.catalog.schemas import LimitsSchema, OfferSchema
from marketplace.common.shares import SHARE_RANGE
from marketplace.common.text import SingleLine
from marketplace.licensing.models import DELIVERABLES, LIMIT_NAMES, ContentIdPolicy, TierKind

COUNT = validate.Range(min=0, max=10**12)


class MoneyInSchema(ma.Schema):
    amount = ma.fields.Integer(required=True, strict=True, metadata={"description": "integer minor units"})
    currency = ma.fields.String(required=True, validate=validate.Length(equal=3))


class LimitsInSchema(ma.Schema):
    """Each limit a count, or null for unlimited."""


for _name in LIMIT_NAMES:
    LimitsInSchema._declared_fields[_name] = ma.fields.Integer(strict=True, allow_none=True, validate=COUNT)


class TierSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in TierKind]))
    deliverables = ma.fields.List(ma.fields.String(validate=validate.OneOf(DELIVERABLES)), required=True)
    limits = ma.fields.Nested(LimitsSchema, required=True)
    term_years = ma.fields.Integer(allow_none=True, required=True)
    credit_line_template = ma.fields.String(required=True)
    publishing_share_bps = ma.fields.Integer(required=True)
    master_points_bps = ma.fields.Integer(required=True)
    content_id = ma.fields.String(required=True)
    default_price = ma.fields.Method("_price", required=True)

    def _price(self, tier):
        return {"amount": tier.default_price_amount, "currency": tier.currency}


class TierInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=60), SingleLine("tier name")])
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in TierKind]))
    deliverables = ma.fields.List(ma.fields.String(validate=validate.OneOf(DELIVERABLES)), required=True,
                                  validate=validate.Length(min=1, max=3))
    limits = ma.fields.Nested(LimitsInSchema, load_default=dict)
    term_years = ma.fields.Integer(strict=True, allow_none=True, load_default=None,
                                   validate=validate.Range(min=1, max=99))
    credit_line_template = ma.fields.String(load_default="{credit_line}", validate=[
        validate.Length(min=1, max=200), SingleLine("credit line template")])
    publishing_share_bps = ma.fields.Integer(strict=True, load_default=5000, validate=SHARE_RANGE)
    master_points_bps = ma.fields.Integer(strict=True, load_default=0, validate=SHARE_RANGE)
    content_id = ma.fields.String(validate=validate.OneOf([c.value for c in ContentIdPolicy]),
                                  metadata={"description": "default: not_allowed for leases, allowed for exclusives"})
    default_price = ma.fields.Nested(MoneyInSchema, required=True)


class TierPatchSchema(TierInSchema):
    """A PATCH body: any fields of a tier (loaded partial, so no defaults are filled in)."""


def tier_patch_schema() -> TierPatchSchema:
    return TierPatchSchema(partial=True)


class OfferInSchema(ma.Schema):
    tier_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    price = ma.fields.Nested(MoneyInSchema, required=True)
    active = ma.fields.Boolean(load_default=True)
    upgrade_floor = ma.fields.Nested(MoneyInSchema, metadata={
        "description": "the least an upgrade to this offer costs a buyer who holds a lower license of "
                       "the beat, whatever they paid before: 0 (the default) or a chargeable amount up to "
                       "the price. Left out, an offer keeps its floor."})


class FileSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    sha256 = ma.fields.String(allow_none=True, required=True)
    size = ma.fields.Integer(allow_none=True, required=True)
    ready = ma.fields.Boolean(required=True)


class LicenseSchema(ma.Schema):
    id = ma.fields.String(required=True)
    license_number = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(["active", "superseded", "revoked"]),
                              metadata={"description": "superseded: upgraded to another license; it still "
                                                       "covers what was done under it"})
    kind = ma.fields.String(required=True)
    beat = ma.fields.Dict(required=True)
    tier = ma.fields.Dict(required=True)
    terms = ma.fields.Dict(required=True, metadata={"description": "frozen at sale"})
    credits = ma.fields.List(ma.fields.Dict(), required=True, metadata={"description": "frozen at sale"})
    price = ma.fields.Nested(MoneySchema, required=True)
    licensee = ma.fields.String(required=True)
    issued_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True, required=True)
    downloads_frozen = ma.fields.Boolean(required=True, metadata={
        "description": "true while the payment is disputed: downloads wait until it is settled"})
    upgrade_of = ma.fields.Dict(allow_none=True, required=True, metadata={
        "description": "the license this one upgraded and superseded: {id, license_number}"})
    superseded_by = ma.fields.Dict(allow_none=True, required=True, metadata={
        "description": "the upgrade that superseded this license: {id, license_number}"})
    superseded_at = ma.fields.DateTime(allow_none=True, required=True)
    contract_ready = ma.fields.Boolean(required=True)
    files = ma.fields.List(ma.fields.Nested(FileSchema), required=True)


class DownloadSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    filename = ma.fields.String(allow_none=True, required=True)
    url = ma.fields.String(allow_none=True, required=True, metadata={"description": "signed; expires"})
    expires_at = ma.fields.DateTime(allow_none=True, required=True)
    ready = ma.fields.Boolean(required=True)


class FreeDownloadSchema(ma.Schema):
    license = ma.fields.Nested(LicenseSchema, required=True, metadata={
        "description": "the free license (kind free): the same one at every download of the beat"})
    download = ma.fields.Nested(DownloadSchema, required=True, metadata={
        "description": "a signed link to the tagged preview MP3"})


class FreeDownloadStatsArgs(ma.Schema):
    days = ma.fields.Integer(load_default=30, validate=validate.Range(min=1, max=366),
                             metadata={"description": "how many days back, today included"})


class FreeDownloadDaySchema(ma.Schema):
    beat_id = ma.fields.String(required=True)
    day = ma.fields.String(required=True, metadata={"description": "the UTC day, YYYY-MM-DD"})
    free_downloads = ma.fields.Integer(required=True, metadata={
        "description": "free licenses taken that day (each account counts once per beat)"})


class CertificateSchema(ma.Schema):
    state = ma.fields.String(required=True, validate=validate.OneOf(["pending", "signed"]), metadata={
        "description": "pending until the licensed files are built, then signed"})
    token = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "the certificate: a compact JWS (a JWT) signed with EdDSA (Ed25519); its header's kid "
                       "names the key in /.well-known/jwks.json"})
    key_id = ma.fields.String(allow_none=True, required=True)
    keys_url = ma.fields.String(required=True, metadata={"description": "the platform's public keys (JWKS)"})
    message = ma.fields.String(required=True)


class VerificationSchema(ma.Schema):
    license_number = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    beatmaker = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={
        "description": "lease, exclusive, or free (a free download)"})
    use = ma.fields.String(required=True, validate=validate.OneOf(["commercial", "non_profit"]), metadata={
        "description": "non_profit for a free download: any commercial release needs a paid license"})
    commercial_use = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "what a free license says of commercial use; null for a paid one"})
    issued_at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True, metadata={
        "description": "the license's status now (active, revoked, ...): the certificate says what was "
                       "issued, this says whether it still holds"})
    licensee = ma.fields.String(required=True)
    certificate = ma.fields.Nested(CertificateSchema, required=True)


class JwkSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    kty = ma.fields.String(required=True, metadata={"example": "OKP"})
    crv = ma.fields.String(required=True, metadata={"example": "Ed25519"})
    x = ma.fields.String(required=True, metadata={"description": "the public key, base64url"})
    kid = ma.fields.String(required=True, metadata={"description": "its RFC 7638 thumbprint"})
    alg = ma.fields.String(required=True, metadata={"example": "EdDSA"})
    use = ma.fields.String(required=True, metadata={"example": "sig"})
    status = ma.fields.String(required=True, validate=validate.OneOf(["active", "retired"]), metadata={
        "description": "active: signs new certificates; retired: signs no more, kept for those it signed"})
    created_at = ma.fields.String(required=True)
    retired_at = ma.fields.String(allow_none=True, required=True)


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), required=True)


class SellerOfferSchema(OfferSchema):
    """An offer as its seller sees it."""

    upgrade_floor = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "the least an upgrade to this offer costs (0: no floor)"})


class TraceUploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "the suspect recording: MP3, AAC, WAV, FLAC or OGG"})


class TraceSchema(ma.Schema):
    found = ma.fields.Boolean(required=True, metadata={"description": "false: no mark found"})
    license_number = ma.fields.String(required=True, allow_none=True)
    license_id = ma.fields.String(required=True, allow_none=True)
    buyer_name = ma.fields.String(required=True, allow_none=True)
    buyer_id = ma.fields.String(required=True, allow_none=True)
    issued_at = ma.fields.DateTime(required=True, allow_none=True)
    beat_title = ma.fields.String(required=True, allow_none=True,
                                  metadata={"description": "the beat recognised, even when no mark is found"})
    z_score = ma.fields.Float(required=True, allow_none=True,
                              metadata={"description": "the best license's score, in standard deviations"})
    confidence = ma.fields.Float(required=True, allow_none=True,
                                 metadata={"description": "1 minus the chance of so high a score without the mark"})
    chance = ma.fields.Float(required=True, allow_none=True)
    similarity = ma.fields.Float(required=True, allow_none=True,
                                 metadata={"description": "how closely the recording matches the beat's master"})
    offset_seconds = ma.fields.Float(required=True, allow_none=True,
                                     metadata={"description": "where in the master the recording starts"})
