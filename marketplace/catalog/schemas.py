from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from marketplace.api.schemas import MoneySchema, page_of
from marketplace.catalog.covers import COVER_SIZES, WEBP_SIZES
from marketplace.catalog.credits import CreditRole
from marketplace.catalog.keys import CANONICAL_KEYS, UnknownKey, normalise_key
from marketplace.catalog.labels import normalise_label
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import BPM_MAX, BPM_MIN, SAMPLE_DECLARATIONS
from marketplace.catalog.search import SORTS
from marketplace.common.shares import SHARE_RANGE
from marketplace.common.text import MultiLine, SingleLine

ID_FIELD = validate.Length(min=1, max=64)


class MusicalKey(ma.fields.String):
    """A musical key in any common spelling, loaded as its canonical name."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_key(text)
        except UnknownKey:
            raise ma.ValidationError(
                f"{text!r} is not a musical key. Try forms like 'F#m', 'F sharp minor' or 'Bb'.") from None


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


TITLE = [validate.Length(min=1, max=120), not_blank, SingleLine("title")]
DESCRIPTION = [validate.Length(max=5000), MultiLine("description")]
LABEL = validate.Length(max=40)


class BeatmakerSchema(ma.Schema):
    id = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    handle = ma.fields.String(allow_none=True, required=True,
                              metadata={"description": "their public handle: their page is /p/{handle}"})


class CreditSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), not_blank,
                                                     SingleLine("credit name")])
    user_id = ma.fields.String(load_default=None, allow_none=True, validate=ID_FIELD, metadata={
        "description": "only your own account, or one that accepted an invitation to this beat; anyone else is "
                       "invited instead (422 consent_required)"})
    role = ma.fields.String(required=True, validate=validate.OneOf([r.value for r in CreditRole]))
    handle = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "description": "the credited account's public handle, when it has one: their page is /p/{handle}"})
    role_label = ma.fields.String(dump_only=True,
                                  metadata={"description": 'e.g. "Produced by", "Beat by"'})
    profit_share_bps = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                         validate=SHARE_RANGE)
    publishing_share_bps = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                             validate=SHARE_RANGE)
    master_points_bps = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                          validate=SHARE_RANGE)
    pro = ma.fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(max=40), SingleLine("performing rights organisation")],
        metadata={"description": "the performing rights organisation, for the split sheet (e.g. ASCAP)"})
    ipi = ma.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^\s*\d{9,11}\s*$", error="An IPI number is 9 to 11 digits."),
        metadata={"description": "the writer's IPI number, for the split sheet"})
    status = ma.fields.String(dump_only=True, metadata={
        "description": "accepted (the linked account agreed, or it is the owner's), pending (an invitation waits: "
                       "the name is as typed, no account is named), declined, expired, or name_only"})
    paid_to = ma.fields.String(dump_only=True, metadata={
        "description": "who its profit share is paid to: account (the linked account), held (kept for the "
                       "pending invitee), owner (a name only or a refused invitation: the owner answers for it)"})
    invitation_id = ma.fields.String(load_default=None, allow_none=True, validate=ID_FIELD, metadata={
        "description": "the credit's invitation; send it back to keep the credit (a pending invitation left out "
                       "of the list is cancelled)"})


class CreditInviteSchema(ma.Schema):
    email = ma.fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    handle = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=31))


class CreditInputSchema(CreditSchema):
    """A credit as the owner sends it: it may invite the person it names."""

    invite = ma.fields.Nested(CreditInviteSchema, load_default=None, allow_none=True, metadata={
        "description": "credit a person by inviting them (an email or a handle): they are credited once they accept"})


class CreditListSchema(ma.Schema):
    credits = ma.fields.List(ma.fields.Nested(CreditSchema), required=True)
    credit_line = ma.fields.String(required=True)


class LimitsSchema(ma.Schema):
    distribution_copies = ma.fields.Integer(allow_none=True, required=True)
    audio_streams = ma.fields.Integer(allow_none=True, required=True)
    music_videos = ma.fields.Integer(allow_none=True, required=True)
    radio_stations = ma.fields.Integer(allow_none=True, required=True)
    paid_performances = ma.fields.Integer(allow_none=True, required=True)


class OfferSchema(ma.Schema):
    tier_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["lease", "exclusive"]))
    price = ma.fields.Nested(MoneySchema, required=True)
    deliverables = ma.fields.List(ma.fields.String(), required=True)
    limits = ma.fields.Nested(LimitsSchema, required=True, metadata={"description": "null means unlimited"})
    term_years = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "null: perpetual"})
    content_id = ma.fields.String(required=True, validate=validate.OneOf(["allowed", "not_allowed"]),
                                  metadata={"description": "whether the buyer may register their song with "
                                                           "YouTube Content ID and the like"})
    credit_line_template = ma.fields.String(required=True, metadata={
        "description": "the credit the buyer must give: {credit_line} is the beat's credit line, {producers} "
                       "its producers' names joined with ' & ', {beat_title} its title",
        "example": "{credit_line}"})
    available = ma.fields.Boolean(required=True, metadata={"description": "can be bought now"})


class BeatSchema(ma.Schema):
    """A beat as answered (built by catalog.documents.beat_document)."""

    id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in BeatStatus]))
    bpm = ma.fields.Integer(required=True)
    key = ma.fields.String(allow_none=True, required=True, validate=validate.OneOf(CANONICAL_KEYS))
    genre = ma.fields.String(allow_none=True, required=True)
    mood = ma.fields.String(allow_none=True, required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    samples = ma.fields.String(required=True, validate=validate.OneOf(SAMPLE_DECLARATIONS))
    version_of = ma.fields.String(allow_none=True, required=True)
    duration_ms = ma.fields.Integer(allow_none=True, required=True)
    play_count = ma.fields.Integer(required=True)
    price_from = ma.fields.Nested(MoneySchema, allow_none=True, required=True,
                                  metadata={"description": "lowest active offer price, or null"})
    offers = ma.fields.List(ma.fields.Nested(OfferSchema), required=True)
    beatmaker = ma.fields.Nested(BeatmakerSchema, required=True)
    credits = ma.fields.List(ma.fields.Nested(CreditSchema), required=True)
    credit_line = ma.fields.String(required=True)
    failure_reason = ma.fields.String(allow_none=True, required=True)
    preview_url = ma.fields.String(allow_none=True, required=True,
                                   metadata={"description": "the watermarked MP3, once processed"})
    waveform_url = ma.fields.String(allow_none=True, required=True,
                                    metadata={"description": "peaks in the audiowaveform JSON format"})
    cover_url = ma.fields.String(allow_none=True, required=True)
    has_stems = ma.fields.Boolean(required=True)
    lossless_master = ma.fields.Boolean(required=True)
    free_download = ma.fields.Boolean(required=True, metadata={
        "description": "the tagged preview may be downloaded free, for non-profit use"})
    created_at = ma.fields.DateTime(required=True)
    published_at = ma.fields.DateTime(allow_none=True, required=True)
    sold_exclusive_at = ma.fields.DateTime(allow_none=True, required=True)


BeatPageSchema = page_of(BeatSchema)


class VocabularyEntrySchema(ma.Schema):
    value = ma.fields.String(required=True,
                             metadata={"description": "what the filter of the same name takes"})
    count = ma.fields.Integer(required=True, metadata={"description": "beats on sale with it"})


class VocabularySchema(ma.Schema):
    genres = ma.fields.List(ma.fields.Nested(VocabularyEntrySchema), required=True, metadata={
        "description": "the genres of beats on sale, the most common first, then common genres no beat "
                       "on sale has yet; beatmakers may name others"})
    moods = ma.fields.List(ma.fields.Nested(VocabularyEntrySchema), required=True, metadata={
        "description": "the same for moods"})
    keys = ma.fields.List(ma.fields.Nested(VocabularyEntrySchema), required=True, metadata={
        "description": "all 24 keys by their canonical names, majors then minors"})


class BeatSearchArgs(ma.Schema):
    q = ma.fields.String(validate=validate.Length(max=200))
    genre = ma.fields.String(validate=LABEL)
    mood = ma.fields.String(validate=LABEL)
    key = MusicalKey()
    bpm_min = ma.fields.Integer(validate=validate.Range(min=BPM_MIN, max=BPM_MAX))
    bpm_max = ma.fields.Integer(validate=validate.Range(min=BPM_MIN, max=BPM_MAX))
    price_min = ma.fields.Integer(validate=validate.Range(min=0, max=10**12),
                                  metadata={"description": "minor units"})
    price_max = ma.fields.Integer(validate=validate.Range(min=0, max=10**12),
                                  metadata={"description": "minor units"})
    tag = ma.fields.String(validate=validate.Length(max=30))
    beatmaker = ma.fields.String(validate=ID_FIELD, metadata={"description": "the beatmaker's user id"})
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(list(SORTS)))
    cursor = ma.fields.String(validate=validate.Length(max=512))
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @ma.post_load
    def normalise_labels(self, data, **_kwargs):
        for field in ("genre", "mood", "tag"):
            if field in data:
                data[field] = normalise_label(data[field])
        return data

    @ma.validates_schema
    def ranges_are_ordered(self, data, **_kwargs):
        ranges = (("bpm_min", "bpm_max", "Minimum BPM"), ("price_min", "price_max", "Minimum price"))
        for low, high, words in ranges:
            if low in data and high in data and data[low] > data[high]:
                raise ma.ValidationError(f"{words} must not be above the maximum.", field_name=low)


class MyBeatsArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))


class CoverArgs(ma.Schema):
    size = ma.fields.Integer(
        load_default=COVER_SIZES[0], validate=validate.OneOf(COVER_SIZES + WEBP_SIZES), metadata={
            "description": "Pixels on the longer side: 1400 (the beat's page) or 400 (listings), "
                           "JPEG; 600 or 300, WebP (pages' srcset; a cover stored before WebP "
                           "renditions existed answers its 400 JPEG)."})


class FileFormatSchema(ma.Schema):
    extensions = ma.fields.List(ma.fields.String(), required=True)
    content_types = ma.fields.List(ma.fields.String(), required=True)
    description = ma.fields.String(required=True)
    max_bytes = ma.fields.Integer(allow_none=True, required=True)


class UploadFormatsSchema(ma.Schema):
    master = ma.fields.Nested(FileFormatSchema, required=True)
    stems = ma.fields.Nested(FileFormatSchema, required=True)
    cover = ma.fields.Nested(FileFormatSchema, required=True)
    voice_tag = ma.fields.Nested(FileFormatSchema, required=True)


class BeatUpdateSchema(ma.Schema):
    title = ma.fields.String(validate=TITLE)
    description = ma.fields.String(validate=DESCRIPTION)
    bpm = ma.fields.Integer(strict=True, validate=validate.Range(min=BPM_MIN, max=BPM_MAX))
    key = MusicalKey(allow_none=True)
    genre = ma.fields.String(allow_none=True, validate=LABEL)
    mood = ma.fields.String(allow_none=True, validate=LABEL)
    tags = ma.fields.List(ma.fields.String(validate=validate.Length(max=30)),
                          validate=validate.Length(max=15))
    samples = ma.fields.String(validate=validate.OneOf(SAMPLE_DECLARATIONS))
    version_of = ma.fields.String(allow_none=True, validate=ID_FIELD)
    free_download = ma.fields.Boolean(metadata={
        "description": "offer the tagged preview as a free download for non-profit use"})
    status = ma.fields.String(validate=validate.OneOf([BeatStatus.PUBLISHED.value]),
                              metadata={"description": "publish an archived beat again"})


class CommaSeparated(ma.fields.String):
    """A form field holding a comma-separated list."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return [part.strip() for part in text.split(",") if part.strip()]


class BeatUploadForm(ma.Schema):
    title = ma.fields.String(required=True, validate=TITLE)
    bpm = ma.fields.Integer(required=True, validate=validate.Range(min=BPM_MIN, max=BPM_MAX))
    key = MusicalKey()
    genre = ma.fields.String(validate=LABEL)
    mood = ma.fields.String(validate=LABEL)
    tags = CommaSeparated(validate=validate.Length(max=600), metadata={"description": "comma separated"})
    description = ma.fields.String(validate=DESCRIPTION)
    samples = ma.fields.String(validate=validate.OneOf(SAMPLE_DECLARATIONS))
    version_of = ma.fields.String(validate=ID_FIELD)


class BeatUploadSchema(BeatUploadForm):
    """The upload's multipart body: the fields above and the files."""

    file = Upload(required=True, metadata={"description": "the master: WAV, AIFF, FLAC or MP3"})
    stems = Upload(metadata={"description": "optional ZIP of stems (audio files only)"})
    cover = Upload(metadata={"description": "optional JPEG, PNG or WebP"})


class VoiceTagSchema(ma.Schema):
    custom = ma.fields.Boolean(required=True, metadata={"description": "false: the platform's default tag"})
    duration_ms = ma.fields.Integer(allow_none=True, required=True)
    interval_seconds = ma.fields.Float(required=True)
    gain_db = ma.fields.Float(required=True)
    first_at_seconds = ma.fields.Float(required=True)


class VoiceTagPlacementSchema(ma.Schema):
    interval_seconds = ma.fields.Float(validate=validate.Range(min=5, max=120))
    gain_db = ma.fields.Float(validate=validate.Range(min=-30, max=10))
    first_at_seconds = ma.fields.Float(validate=validate.Range(min=0, max=60))


class VoiceTagUploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "up to 10 s: WAV, AIFF, FLAC or MP3"})


class StoredFileSchema(ma.Schema):
    size = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "bytes"})
    sha256 = ma.fields.String(allow_none=True, required=True)
    uploaded_at = ma.fields.DateTime(allow_none=True, required=True)


class MasterFileSchema(StoredFileSchema):
    format = ma.fields.String(allow_none=True, required=True, metadata={"example": "wav"})
    lossless = ma.fields.Boolean(required=True)
    duration_ms = ma.fields.Integer(allow_none=True, required=True)


class ReplacementSchema(MasterFileSchema):
    status = ma.fields.String(required=True, validate=validate.OneOf(["pending", "failed"]), metadata={
        "description": "pending: its preview is being rendered; failed: see failure_reason"})
    failure_reason = ma.fields.String(allow_none=True, required=True)


class BeatFilesSchema(ma.Schema):
    """A beat's files as its owner sees them (built by catalog.replacements.files_document)."""

    beat_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in BeatStatus]))
    failure_reason = ma.fields.String(allow_none=True, required=True)
    master = ma.fields.Nested(MasterFileSchema, allow_none=True, required=True)
    stems = ma.fields.Nested(StoredFileSchema, allow_none=True, required=True)
    cover_url = ma.fields.String(allow_none=True, required=True)
    replacement = ma.fields.Nested(ReplacementSchema, allow_none=True, required=True, metadata={
        "description": "a new master waiting for its preview before it replaces the current one"})
    can_retry = ma.fields.Boolean(required=True, metadata={
        "description": "whether POST /beats/{id}/retry has something to render again"})


class MasterReplaceSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "the new master: WAV, AIFF, FLAC or MP3"})


class StemsReplaceSchema(ma.Schema):
    stems = Upload(required=True, metadata={"description": "a ZIP of stems (audio files only)"})


class CoverReplaceSchema(ma.Schema):
    cover = Upload(required=True, metadata={"description": "JPEG, PNG or WebP"})
