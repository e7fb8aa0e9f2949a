from __future__ import annotations

from pathlib import Path

import marshmallow as ma
from flask import current_app, request

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors, encoded_json_response, json_response
from marketplace.catalog import replacements, search, services, uploads, vocabulary, voice_tags
from marketplace.catalog.covers import (
    LISTING,
    WEBP_CONTENT_TYPE,
    WEBP_SIZES,
    rendition_key,
    webp_rendition_key,
)
from marketplace.catalog.documents import beat_document, credits_document, full_beat_document, offers_for
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import public_handle
from marketplace.catalog.schemas import (
    BeatPageSchema,
    BeatSchema,
    BeatSearchArgs,
    BeatUpdateSchema,
    BeatFilesSchema,
    BeatUploadSchema,
    CoverArgs,
    CoverReplaceSchema,
    CreditInputSchema,
    CreditListSchema,
    MasterReplaceSchema,
    MyBeatsArgs,
    StemsReplaceSchema,
    UploadFormatsSchema,
    VocabularySchema,
    VoiceTagPlacementSchema,
    VoiceTagSchema,
    VoiceTagUploadSchema,
)
from marketplace.db import db
from marketplace.common.errors import NotFound
from marketplace.storage.service import storage
from marketplace.storage.views import file_response

blp = Blueprint("catalog", __name__, description="Beats: browse, search, edit, credits")


@blp.get("/beats")
@blp.arguments(BeatSearchArgs(), location="query", as_kwargs=True, unknown=ma.RAISE)
@blp.response(200, BeatPageSchema)
def list_beats(**args):
    """Search and browse published beats, one page at a time (follow `next_cursor`)."""
    return encoded_json_response(search.listing_json(search.BeatQuery(**args)))


@blp.get("/catalog/vocabulary")
@blp.response(200, VocabularySchema)
def catalog_vocabulary():
    """The genres, moods and keys to filter the store by, each with how many beats on sale
    carry it (counts may lag the store by a minute)."""
    response = json_response(vocabulary.vocabulary())
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["VOCABULARY_CACHE_SECONDS"]
    return response


@blp.get("/me/beats")
@auth_required(Role.BEATMAKER)
@blp.arguments(MyBeatsArgs, location="query", unknown=ma.RAISE)
@blp.response(200, BeatSchema(many=True))
def my_beats(args):
    """Your beats in every status (processing, failed, archived and taken down ones too), newest first."""
    beats = services.beats_of(current_user(), args["limit"])
    offers = offers_for(beats)
    return json_response([beat_document(beat, beat.owner.display_name, beat.credits, beat.tags,
                                   offers.get(beat.id, []), public_handle(beat.owner)) for beat in beats])


@blp.get("/beats/<beat_id>")
@blp.response(200, BeatSchema)
@document_errors(404)
def get_beat(beat_id):
    """A beat. Owners and admins also see beats that are not public."""
    return json_response(full_beat_document(services.get_visible_beat(beat_id, optional_user())))


@blp.patch("/beats/<beat_id>")
@auth_required(Role.BEATMAKER)
@blp.arguments(BeatUpdateSchema)
@blp.response(200, BeatSchema)
@document_errors(404, 409)
def update_beat(changes, beat_id):
    """Edit a beat's metadata (owner only). Only the fields sent change."""
    beat = services.update_beat(services.get_owned_beat(beat_id, current_user()), changes)
    db.session.commit()
    return json_response(full_beat_document(beat))


@blp.delete("/beats/<beat_id>")
@auth_required(Role.BEATMAKER)
@blp.response(200, BeatSchema)
@document_errors(404, 409)
def archive_beat(beat_id):
    """Archive a beat (owner only): it leaves the store; licenses sold stay valid."""
    beat = services.archive_beat(services.get_owned_beat(beat_id, current_user()))
    db.session.commit()
    return json_response(full_beat_document(beat))


@blp.get("/beats/<beat_id>/credits")
@blp.response(200, CreditListSchema)
@document_errors(404)
def get_credits(beat_id):
    """Who made the beat, with the rendered credit line."""
    return json_response(credits_document(services.get_visible_beat(beat_id, optional_user()).credits))


@blp.put("/beats/<beat_id>/credits")
@auth_required(Role.BEATMAKER)
@blp.arguments(CreditInputSchema(many=True))
@blp.response(200, CreditListSchema)
@document_errors(404, 422, 429)
def replace_credits(credits, beat_id):
    """Replace the whole credit list (owner only). A credit is a name only (its profit share is
    paid to you, who answer for it), your own account, or a person by invitation (`invite` with
    an email or a handle, or `invitation_id` to keep one): another account's `user_id` is
    refused (422 consent_required) unless that person accepted a credit on this beat. A change
    that moves the share of a collaborator who accepted waits for their acceptance on the split
    sheet; until then sales follow the previous split."""
    from marketplace.collaborators.services import set_credits  # collaborators builds on the catalogue

    user = current_user()
    beat = set_credits(services.get_owned_beat(beat_id, user), user, credits)
    db.session.commit()
    return json_response(credits_document(beat.credits))


def spooled_path(upload) -> Path:
    """The local file an upload was spooled to (see MarketplaceRequest)."""
    upload.stream.flush()
    return Path(upload.stream.name)


@blp.post("/beats")
@auth_required(Role.BEATMAKER)
@blp.arguments(BeatUploadSchema, location="form_and_files")
@blp.response(202, BeatSchema)
def upload_beat(body):
    """Upload a beat: the master, optional stems ZIP and cover. It is checked at once and
    published when its preview is rendered (status `processing` until then)."""
    master, stems, cover = body.pop("file"), body.pop("stems", None), body.pop("cover", None)
    fields = body
    beat = uploads.accept_beat_upload(current_user(), fields, spooled_path(master),
                                      spooled_path(stems) if stems else None,
                                      spooled_path(cover) if cover else None)
    db.session.commit()
    return json_response(full_beat_document(beat), 202)


def _committed_files(beat, status: int = 200):
    """Commit what the request did to the beat's files, and answer with them."""
    db.session.commit()
    return json_response(replacements.files_document(beat), status)


@blp.get("/beats/<beat_id>/files")
@auth_required(Role.BEATMAKER)
@blp.response(200, BeatFilesSchema)
@document_errors(404)
def beat_files(beat_id):
    """A beat's files (owner only): its master and stems, and a new master waiting to replace it."""
    return json_response(replacements.files_document(services.get_owned_beat(beat_id, current_user())))


@blp.put("/beats/<beat_id>/master")
@auth_required(Role.BEATMAKER)
@blp.arguments(MasterReplaceSchema, location="files")
@blp.response(202, BeatFilesSchema)
@document_errors(404, 409)
def replace_master(files, beat_id):
    """Replace the master (owner only), checked as an upload's. It waits (`replacement`) until
    its preview is rendered, then takes over with it; licenses already sold keep delivering the
    master they were sold with. A refused file leaves everything as it was."""
    beat = replacements.replace_master(current_user(), beat_id, spooled_path(files["file"]))
    return _committed_files(beat, 202)


@blp.delete("/beats/<beat_id>/master/replacement")
@auth_required(Role.BEATMAKER)
@blp.response(200, BeatFilesSchema)
@document_errors(404)
def cancel_master_replacement(beat_id):
    """Cancel the new master waiting to replace the beat's (owner only): the beat keeps its master
    and preview, and the new file is deleted."""
    return _committed_files(replacements.cancel_replacement(current_user(), beat_id))


@blp.post("/beats/<beat_id>/retry")
@auth_required(Role.BEATMAKER)
@blp.response(202, BeatFilesSchema)
@document_errors(404, 409)
def retry_processing(beat_id):
    """Render again what failed (owner only): a new master whose preview failed, or a beat whose
    processing failed. 409 when nothing failed."""
    return _committed_files(replacements.retry_processing(current_user(), beat_id), 202)


@blp.put("/beats/<beat_id>/stems")
@auth_required(Role.BEATMAKER)
@blp.arguments(StemsReplaceSchema, location="files")
@blp.response(200, BeatFilesSchema)
@document_errors(404, 409)
def replace_stems(files, beat_id):
    """Replace (or add) the stems ZIP (owner only), checked as an upload's. New sales deliver it;
    licenses already sold keep the stems they were sold with."""
    return _committed_files(replacements.replace_stems(current_user(), beat_id, spooled_path(files["stems"])))


@blp.put("/beats/<beat_id>/cover")
@auth_required(Role.BEATMAKER)
@blp.arguments(CoverReplaceSchema, location="files")
@blp.response(200, BeatFilesSchema)
@document_errors(404, 409)
def replace_cover(files, beat_id):
    """Replace (or add) the cover (owner only), checked and re-encoded as an upload's."""
    return _committed_files(replacements.replace_cover(current_user(), beat_id, spooled_path(files["cover"])))


PREVIEW_CACHE_SECONDS = 300


@blp.get("/beats/<beat_id>/preview")
@blp.response(200, description="The watermarked preview (audio/mpeg); Range requests answer 206")
@blp.alt_response(206, description="The requested byte range", success=True)
@blp.alt_response(302, description="Redirect to the file when stored in S3", success=True)
@blp.alt_response(304, description="Not modified (ETag)", success=True)
@document_errors(404)
def stream_preview(beat_id):
    """Stream a beat's watermarked preview. A play is counted when listening starts."""
    beat = services.get_streamable_beat(beat_id, optional_user())
    if beat.preview_key is not None and request.method == "GET" \
            and request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        services.record_play(beat.id)
        db.session.commit()
    return _rendered_file(beat, beat.preview_key, "audio/mpeg")


@blp.get("/beats/<beat_id>/waveform")
@blp.response(200, description="Peaks in the audiowaveform JSON format")
@blp.alt_response(302, description="Redirect to the file when stored in S3", success=True)
@document_errors(404)
def waveform(beat_id):
    """A beat's waveform peaks (version, channels, sample_rate, samples_per_pixel, bits, length, data)."""
    beat = services.get_streamable_beat(beat_id, optional_user())
    return _rendered_file(beat, beat.waveform_key, "application/json")


def _rendered_file(beat, key, content_type):
    """A preview or waveform: public caching only while the beat is in the store."""
    if key is None:
        raise NotFound("This beat has no preview yet.", code="preview_not_ready")
    return file_response(key, content_type, cache_seconds=PREVIEW_CACHE_SECONDS,
                         private=beat.status != BeatStatus.PUBLISHED)


@blp.get("/uploads/formats")
@blp.response(200, UploadFormatsSchema)
def upload_formats():
    """What each upload accepts (extensions, content types, largest size, in words), so a page
    can offer only these files and refuse another before sending it."""
    return uploads.accepted_formats()


@blp.get("/beats/<beat_id>/cover")
@blp.arguments(CoverArgs, location="query", unknown=ma.RAISE)
@blp.response(200, description="The cover image (JPEG, or WebP at 600 and 300), re-encoded by the platform")
@blp.alt_response(302, description="Redirect to the file when stored in S3", success=True)
@document_errors(404)
def cover(args, beat_id):
    """A beat's cover, 1400 pixels on its longer side, or 400 with `size=400` (JPEG); WebP with
    `size=600` or `size=300`."""
    beat = services.get_visible_beat(beat_id, optional_user())
    if beat.cover_key is None:
        raise NotFound("This beat has no cover.", code="cover_not_found")
    key, content_type = rendition_key(beat.cover_key, args["size"]), beat.cover_content_type
    if args["size"] in WEBP_SIZES:
        webp_key = webp_rendition_key(beat.cover_key, args["size"])
        if webp_key is not None and storage().exists(webp_key):
            key, content_type = webp_key, WEBP_CONTENT_TYPE
        else:  # stored before WebP renditions: the listings' JPEG
            key = rendition_key(beat.cover_key, LISTING)
    return file_response(key, content_type,
                         cache_seconds=PREVIEW_CACHE_SECONDS,
                         private=beat.status not in (BeatStatus.PUBLISHED, BeatStatus.SOLD_EXCLUSIVE))


def _voice_tag_document(tag):
    return {"custom": tag.tag_key is not None, "duration_ms": tag.duration_ms,
            "interval_seconds": tag.interval_seconds, "gain_db": tag.gain_db,
            "first_at_seconds": tag.first_at_seconds}


@blp.get("/me/voice-tag")
@auth_required(Role.BEATMAKER)
@blp.response(200, VoiceTagSchema)
def get_voice_tag():
    """Your producer tag and where it lands in previews."""
    return _voice_tag_document(voice_tags.voice_tag_for(current_user().id))


@blp.put("/me/voice-tag")
@auth_required(Role.BEATMAKER)
@blp.arguments(VoiceTagUploadSchema, location="files")
@blp.response(200, VoiceTagSchema)
@document_errors(429)
def upload_voice_tag(files):
    """Upload your producer tag (up to 10 s). Every preview of yours is rendered again.
    Tag changes are limited per producer (429 beyond the limit)."""
    tag = voice_tags.upload_tag(current_user(), spooled_path(files["file"]))
    db.session.commit()
    return _voice_tag_document(tag)


@blp.patch("/me/voice-tag")
@auth_required(Role.BEATMAKER)
@blp.arguments(VoiceTagPlacementSchema)
@blp.response(200, VoiceTagSchema)
@document_errors(429)
def place_voice_tag(changes):
    """Set the interval, gain and first position of your tag. Previews are rendered again."""
    tag = voice_tags.update_placement(current_user(), changes)
    db.session.commit()
    return _voice_tag_document(tag)


@blp.delete("/me/voice-tag")
@auth_required(Role.BEATMAKER)
@blp.response(200, VoiceTagSchema)
@document_errors(429)
def remove_voice_tag():
    """Go back to the platform's default tag."""
    tag = voice_tags.remove_tag(current_user())
    db.session.commit()
    return _voice_tag_document(tag)
