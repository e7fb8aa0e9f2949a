from __future__ import annotations

import datetime as dt

from flask import request

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors
from marketplace.catalog import services as catalog
from marketplace.catalog.views import spooled_path
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import NotFound
from marketplace.licensing import free, keys, library, offers, tiers, tracing
from marketplace.licensing.schemas import (
    DownloadSchema,
    FreeDownloadDaySchema,
    FreeDownloadSchema,
    FreeDownloadStatsArgs,
    JwksSchema,
    LicenseSchema,
    OfferInSchema,
    SellerOfferSchema,
    TierInSchema,
    TierSchema,
    TraceSchema,
    TraceUploadSchema,
    VerificationSchema,
    tier_patch_schema,
)
from marketplace.storage.views import file_response

blp = Blueprint("licensing", __name__, description="License tiers, offers and licenses")
# Served at the site's root, where JWT libraries look for a issuer's keys.
well_known_blp = Blueprint("well_known", __name__, url_prefix="/.well-known",
                           description="The platform's public keys, for checking license certificates")
trace_blp = Blueprint("licensing_admin", __name__, url_prefix="/admin",
                      description="Leak tracing for admins: the license a leaked recording was delivered under")


@trace_blp.post("/trace")
@auth_required(Role.ADMIN)
@trace_blp.arguments(TraceUploadSchema, location="files")
@trace_blp.response(200, TraceSchema)
@document_errors(422)
def trace_recording(files):
    """Upload a suspect recording (an excerpt, re-encoded, sung over...): the license whose
    delivered MP3 it comes from, with its buyer, date and the confidence, or `found: false`
    (no mark found). Evidence for a takedown."""
    result = tracing.trace_document(tracing.trace_file(spooled_path(files["file"])))
    db.session.commit()
    return result


@blp.get("/license-tiers")
@auth_required(Role.BEATMAKER)
@blp.response(200, TierSchema(many=True))
def list_tiers():
    """Your license tiers; the five default templates the first time."""
    result = tiers.list_tiers(current_user())
    db.session.commit()
    return result


@blp.post("/license-tiers")
@auth_required(Role.BEATMAKER)
@blp.arguments(TierInSchema)
@blp.response(201, TierSchema)
def create_tier(fields):
    tiers.list_tiers(current_user())  # the defaults come first
    tier = tiers.create_tier(current_user(), {**fields, "position": 100})
    db.session.commit()
    return tier


@blp.patch("/license-tiers/<tier_id>")
@auth_required(Role.BEATMAKER)
@blp.arguments(tier_patch_schema())
@blp.response(200, TierSchema)
@document_errors(404, 409)
def update_tier(fields, tier_id):
    """Edit a tier. Licenses already sold keep the terms they were sold under."""
    tier = tiers.update_tier(tiers.get_own_tier(current_user(), tier_id), fields)
    db.session.commit()
    return tier


@blp.delete("/license-tiers/<tier_id>")
@auth_required(Role.BEATMAKER)
@blp.response(204)
@document_errors(404)
def delete_tier(tier_id):
    """Remove a tier: deleted if never used, else archived and taken off sale."""
    tiers.remove_tier(tiers.get_own_tier(current_user(), tier_id))
    db.session.commit()


@blp.put("/beats/<beat_id>/offers")
@auth_required(Role.BEATMAKER)
@blp.arguments(OfferInSchema(many=True))
@blp.response(200, SellerOfferSchema(many=True))
@document_errors(404, 409)
def replace_offers(wanted, beat_id):
    """What the beat is sold as: the whole list of offers (tier, price, active, and the floor
    an upgrade to it never goes below)."""
    beat = catalog.get_owned_beat(beat_id, current_user())
    offers.replace_offers(beat, current_user(), wanted)
    db.session.commit()
    floors = offers.upgrade_floors(beat.id)
    return [{**document, "upgrade_floor": floors[document["tier_id"]]}
            for document in offers.offer_documents([beat]).get(beat.id, [])]


@blp.get("/licenses")
@auth_required()
@blp.response(200, LicenseSchema(many=True))
def my_licenses():
    """The licenses you bought."""
    return [library.license_document(item) for item in library.licenses_of(current_user())]


@blp.get("/licenses/<license_id>")
@auth_required()
@blp.response(200, LicenseSchema)
@document_errors(404)
def get_license(license_id):
    return library.license_document(library.license_for(current_user(), license_id))


@blp.get("/licenses/<license_id>/contract.pdf")
@auth_required()
@blp.response(200, description="The contract (application/pdf), rendered once at issue")
@document_errors(404)
def contract(license_id):
    license_ = library.license_for(current_user(), license_id)
    if license_.contract_key is None:
        raise NotFound("The contract is being prepared; try again in a moment.", code="contract_not_ready")
    return file_response(license_.contract_key, "application/pdf", cache_seconds=0, private=True)


@blp.get("/licenses/<license_id>/downloads")
@auth_required()
@blp.response(200, DownloadSchema(many=True))
@document_errors(404)
def downloads(license_id):
    """Signed links to your files; they expire (15 minutes by default) and can be asked for again."""
    links = library.download_links(library.license_for(current_user(), license_id, buyer_only=True),
                                   current_user(), request.remote_addr)
    db.session.commit()
    return links


@blp.post("/beats/<beat_id>/free-download")
@auth_required()
@blp.response(200, FreeDownloadSchema)
@document_errors(404, 409, 410, 429)
def free_download(beat_id):
    """Download the beat's tagged preview free, for non-profit use, when its beatmaker offers
    it: answers the free license (the same one every time this account downloads the beat) and
    a signed link. New free licenses are limited per account (429 says when to try again)."""
    license_ = free.take_free_license(beat_id, current_user())
    links = library.download_links(license_, current_user(), request.remote_addr)
    db.session.commit()
    return {"license": library.license_document(license_), "download": links[0]}


@blp.get("/me/free-downloads")
@auth_required(Role.BEATMAKER)
@blp.arguments(FreeDownloadStatsArgs, location="query")
@blp.response(200, FreeDownloadDaySchema(many=True))
def my_free_downloads(args):
    """Free downloads of your beats per beat and day (UTC), for your statistics: never sales."""
    since = utcnow().date() - dt.timedelta(days=args["days"] - 1)
    return free.free_downloads_per_day(current_user(), since)


@blp.get("/licenses/verify/<license_number>")
@blp.response(200, VerificationSchema)
@document_errors(404)
def verify(license_number):
    """Public proof of a license: beat, tier, date, licensee, its current status, and its signed
    certificate (pending until the licensed files are built). Nothing private."""
    return library.verify(license_number)


@well_known_blp.get("/jwks.json")
@well_known_blp.response(200, JwksSchema)
def jwks():
    """The public keys that sign license certificates (JWK Set, RFC 7517), each under its key id.
    Retired keys sign no more and stay listed, so every certificate ever issued can be checked."""
    document = keys.jwks_document()
    db.session.commit()  # the first call registers the first key
    # Anyone may check a certificate, from any web page; keys change only at a rotation.
    return document, 200, {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
