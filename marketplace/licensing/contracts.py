"""License contracts: versioned templates rendered once, at issue, to PDF.

A template is plain text with $placeholders. Rendering refuses to produce a contract with
a missing or empty value, or with any placeholder left: no contract leaves with a blank.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
import string
import unicodedata
from pathlib import Path
from typing import Any

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF

from marketplace.common.money import Money
from marketplace.common.text import one_line

# Subsetting a font logs each table it leaves out (hinting tables it cannot subset): expected,
# and harmless to the printed glyphs.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

# Templates are written with a line break wherever it reads well in code; a paragraph is what
# lies between blank lines, and it flows (and is justified) on the page. Lines starting with
# "- " are list items, each on a line of its own.
LEASE_V2 = """NON-EXCLUSIVE LICENSE AGREEMENT

License number: $license_number

Date: $issued_on

This agreement is made between $licensor ("Producer") and $licensee ("Licensee") for the
musical composition and instrumental recording "$beat_title" ($beat_details), the "Beat".

THE PARTIES.
- Producer: $licensor, $licensor_contact
- Licensee: $licensee, $licensee_contact

1. GRANT. The Producer grants the Licensee a non-exclusive, non-transferable license to use
the Beat in one (1) new song, $term. The Producer keeps all ownership of the Beat and may
license it to others.

2. LIMITS. Distribution copies: $distribution_copies. Audio streams: $audio_streams.
Music videos: $music_videos. Radio stations: $radio_stations. Paid performances:
$paid_performances. Going past a limit requires a new license or an upgrade.

3. CREDIT. Every release and listing of the new song must credit: "$credit_line".

4. PUBLISHING AND MASTER. The Producer keeps the copyright of the composition and
$publishing_share of the publishing (writer's share) of the new song. Master points kept
by the Producer: $master_points.

5. CONTENT ID. $content_id

6. SAMPLES. $samples

7. FILES. $deliverables, delivered by download.

8. PRICE. $price, paid in full.

9. GOVERNING LAW. This agreement is governed by $governing_law.

10. CREDITS OF THE BEAT.
$credits

ACCEPTANCE.
- Licensee: $licensee accepted this agreement online on $accepted_at, by paying for this
license on $platform.
- Producer: $licensor accepted it through the terms of $platform, under which every license of
the tier "$tier_name" is sold on these terms.

This agreement was concluded electronically and needs no handwritten signature.
"""

EXCLUSIVE_V2 = """EXCLUSIVE RIGHTS AGREEMENT

License number: $license_number

Date: $issued_on

This agreement is made between $licensor ("Producer") and $licensee ("Licensee") for the
musical composition and instrumental recording "$beat_title" ($beat_details), the "Beat".

THE PARTIES.
- Producer: $licensor, $licensor_contact
- Licensee: $licensee, $licensee_contact

1. GRANT. The Producer grants the Licensee the exclusive right to use the Beat, $term.
From today the Producer will not license the Beat to anyone else and removes it from sale.

2. EARLIER LICENSES. $earlier_leases The Licensee accepts that those licensees may keep
exploiting their songs within their limits.

3. LIMITS. Distribution copies: $distribution_copies. Audio streams: $audio_streams.
Music videos: $music_videos. Radio stations: $radio_stations. Paid performances:
$paid_performances.

4. CREDIT. Every release and listing must credit: "$credit_line".

5. PUBLISHING AND MASTER. The Producer keeps the copyright of the composition and
$publishing_share of the publishing (writer's share). Master points kept by the
Producer: $master_points.

6. CONTENT ID. $content_id

7. SAMPLES. $samples

8. FILES. $deliverables, delivered by download.

9. PRICE. $price, paid in full.

10. GOVERNING LAW. This agreement is governed by $governing_law.

11. CREDITS OF THE BEAT.
$credits

ACCEPTANCE.
- Licensee: $licensee accepted this agreement online on $accepted_at, by paying for this
license on $platform.
- Producer: $licensor accepted it through the terms of $platform, under which every license of
the tier "$tier_name" is sold on these terms.

This agreement was concluded electronically and needs no handwritten signature.
"""

# Version 3 names the split sheet version the credits come from (in force at the sale).
# The hash is an item after the credits: left-aligned, never stretched by justification.
_NAMING_THE_SPLIT_SHEET = ("CREDITS OF THE BEAT.\n$credits",
                           "CREDITS OF THE BEAT. $split_sheet\n$credits\n- $split_sheet_hash")
LEASE_V3 = LEASE_V2.replace(*_NAMING_THE_SPLIT_SHEET)
EXCLUSIVE_V3 = EXCLUSIVE_V2.replace(*_NAMING_THE_SPLIT_SHEET)

FREE_V1 = """FREE LICENSE FOR NON-PROFIT USE

License number: $license_number

Date: $issued_on

This license is given by $licensor ("Producer") to $licensee ("Licensee") for the musical
composition and instrumental recording "$beat_title" ($beat_details), the "Beat", downloaded
free of charge as the Producer's preview.

THE PARTIES.
- Producer: $licensor, $licensor_contact
- Licensee: $licensee, $licensee_contact

1. GRANT. The Producer grants the Licensee a non-exclusive, non-transferable, free license to
use the Beat, as delivered with the Producer's voice tag, in non-profit work only, $term:
nothing may be sold, streamed for money, monetised or performed for pay.

2. COMMERCIAL USE. Any commercial release needs a paid license of the Beat, bought from the
Producer. This license gives no right to remove the voice tag, and no other file of the Beat.

3. CREDIT. Every use of the Beat must credit: "$credit_line".

4. OWNERSHIP. The Producer keeps all rights in the Beat and may license it to others, also
exclusively. A later sale of the exclusive rights ends free downloads; this license stays
valid for non-profit use.

5. CONTENT ID. $content_id

6. SAMPLES. $samples

7. FILES. $deliverables, delivered by download.

8. PRICE. None: this license is free of charge.

9. GOVERNING LAW. This license is governed by $governing_law.

10. CREDITS OF THE BEAT.
$credits

ACCEPTANCE.
- Licensee: $licensee accepted this license online on $accepted_at, by downloading the Beat
on $platform.
- Producer: $licensor accepted it through the terms of $platform, by offering the Beat as a
free download.

This license was concluded electronically and needs no handwritten signature.
"""

TEMPLATES = {"lease-v2": LEASE_V2, "exclusive-v2": EXCLUSIVE_V2,
             "lease-v3": LEASE_V3, "exclusive-v3": EXCLUSIVE_V3, "free-v1": FREE_V1}
CURRENT_TEMPLATE = {"lease": "lease-v3", "exclusive": "exclusive-v3", "free": "free-v1"}

CONTENT_ID_TEXT = {
    "not_allowed": "The Licensee may not register the Beat, or the new song, with YouTube Content ID "
                   "or any other content identification system.",
    "allowed": "The Licensee may register the new song with YouTube Content ID and similar systems.",
}
SAMPLES_TEXT = {
    "none": "The Producer declares that the Beat contains no samples of other recordings.",
    "cleared": "The Producer declares that every sample in the Beat has been cleared.",
    "uncleared": "WARNING: the Producer declares that the Beat contains samples that have NOT been "
                 "cleared. Clearing them before any commercial release is the Licensee's responsibility.",
}


class ContractIncomplete(ValueError):
    """A value the contract needs is missing: it is not rendered, rather than rendered blank."""


def _count(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


def _percent(bps: int) -> str:
    return f"{bps / 100:g}%"


def _term(years: int | None) -> str:
    if years is None:
        return "in perpetuity"
    return f"for a term of {years} year" + ("" if years == 1 else "s")


def _earlier_leases(count: int) -> str:
    """What happens to leases sold before the exclusive, in words (never "0 issued")."""
    if count == 0:
        return ("No non-exclusive license of the Beat was sold before this date; any whose purchase was "
                "already under way at that moment stays valid under its own terms.")
    sold = "One non-exclusive license was" if count == 1 else f"{count:,} non-exclusive licenses were"
    return (f"{sold} sold before this date and {'stays' if count == 1 else 'stay'} valid under "
            f"{'its' if count == 1 else 'their'} own terms, and so do those whose purchase was already "
            "under way at that moment.")


# The MP3 carries no voice tag; its ID3 tags name the license (see tasks._tag).
DELIVERABLE_TEXT = {"mp3": "MP3 (320 kbps, without the voice tag; its ID3 tags name this license)",
                    "wav": "WAV", "stems": "stems (ZIP)",
                    # A free download: the store's preview as it plays there.
                    "tagged_mp3": "The preview MP3, with the Producer's voice tag"}


@dataclasses.dataclass(frozen=True)
class Parties:
    """Who signs, and the platform that sells: read at rendering, stated in the contract."""

    licensor_contact: str
    licensee_contact: str
    platform: str
    governing_law: str


def _split_sheet(split_version: Any | None) -> tuple[str, str]:
    """Which split sheet the credits are those of, and its SHA-256: the version in force when the
    license was sold, so either party can check it against the sheet they hold."""
    if split_version is None:
        return ("These are the Beat's credits as listed when this license was sold:",
                "No split sheet of the Beat was on record at the time of this sale.")
    return (f"These are the credits of version {split_version.number} of the Beat's split sheet, in force "
            "when this license was sold:",
            f"Split sheet version {split_version.number}, SHA-256: {split_version.content_hash}")


def contract_values(license_: Any, earlier_leases: int, parties: Parties,
                    split_version: Any | None = None) -> dict[str, str]:
    """The values of the contract's placeholders; `split_version` is the split sheet version the
    license records (its number and content_hash), None for a sale before split sheets."""
    terms, beat = license_.terms, license_.beat_snapshot
    limits = terms["limits"]
    details = [f"{beat['bpm']} BPM"] + ([beat["key"]] if beat.get("key") else [])
    credits = "\n".join(f"- {one_line(c['role_label'])} {one_line(c['name'])}"
                        + (f" (profit share {_percent(c['profit_share_bps'])})" if c.get("profit_share_bps") else "")
                        + (f" (publishing {_percent(c['publishing_share_bps'])})" if c.get("publishing_share_bps") else "")
                        for c in license_.credits)
    issued_at = license_.issued_at.astimezone(dt.timezone.utc)
    values = {
        "license_number": license_.license_number,
        "issued_on": issued_at.strftime("%B %d, %Y"),
        "accepted_at": issued_at.strftime("%B %d, %Y at %H:%M UTC"),
        "licensor": beat["beatmaker"],
        "licensee": license_.buyer_name,
        "licensor_contact": parties.licensor_contact,
        "licensee_contact": parties.licensee_contact,
        "platform": parties.platform,
        "governing_law": parties.governing_law,
        "tier_name": terms["tier_name"],
        "beat_title": beat["title"],
        "beat_details": ", ".join(details),
        "term": _term(terms["term_years"]),
        **{name: _count(limits[name]) for name in limits},
        "credit_line": terms["credit_line"],
        "publishing_share": _percent(terms["publishing_share_bps"]),
        "master_points": _percent(terms["master_points_bps"]),
        "content_id": CONTENT_ID_TEXT[terms["content_id"]],
        "samples": SAMPLES_TEXT[terms.get("samples", "none")],
        "deliverables": ", ".join(DELIVERABLE_TEXT[d] for d in terms["deliverables"]),
        "price": Money(license_.price_amount, license_.currency).formatted(),
        "credits": credits,
        "earlier_leases": _earlier_leases(earlier_leases),
        "split_sheet": _split_sheet(split_version)[0],
        "split_sheet_hash": _split_sheet(split_version)[1],
    }
    # Names and titles are data inside their clause: one typed (or stored before today's
    # rules) with line breaks must never start a clause of its own.
    return {name: value if name == "credits" else one_line(value) for name, value in values.items()}


def render_contract_text(template_name: str, values: dict[str, str]) -> str:
    empty = sorted(name for name, value in values.items() if value is None or str(value).strip() == "")
    if empty:
        raise ContractIncomplete(f"empty values: {', '.join(empty)}")
    try:
        # substitute() fails on any placeholder without a value, so none is left behind.
        return string.Template(TEMPLATES[template_name]).substitute(values)
    except KeyError as missing:
        raise ContractIncomplete(f"no value for {missing}") from None


@dataclasses.dataclass(frozen=True)
class Paragraph:
    kind: str  # "title", "text" (flows, justified) or "item" (a line of a list)
    text: str
    ends_block: bool  # followed by a blank line in the template


def paragraphs(text: str) -> list[Paragraph]:
    """The contract as the page shows it. A line break inside a paragraph or a list item is only
    where the template wraps in code: the page flows it."""
    title, *blocks = [block for block in re.split(r"\n[ \t]*\n", text.strip()) if block.strip()]
    result = [Paragraph("title", " ".join(title.split()), True)]
    for block in blocks:
        lines: list[list[str]] = []
        for line in filter(None, (line.strip() for line in block.splitlines())):
            if line.startswith("- ") or not lines:
                lines.append(["item" if line.startswith("- ") else "text", line])
            else:
                lines[-1][1] += " " + line
        result.extend(Paragraph(kind, " ".join(body.split()), index == len(lines) - 1)
                      for index, (kind, body) in enumerate(lines))
    return result


@dataclasses.dataclass(frozen=True)
class ContractFont:
    family: str
    path: Path
    bold: Path | None = None
    # Characters this font is not used for, though it has them (another font prints them better).
    leaves: tuple[range, ...] = ()


NOTO = Path("/usr/share/fonts/truetype/noto")  # fonts-noto-core
HANGUL = (range(0x1100, 0x1200), range(0x3130, 0x3190), range(0xA960, 0xA980), range(0xAC00, 0xD800))
# The first font prints the contract itself (Latin, Greek, Cyrillic); the others are fallbacks,
# each for the scripts of people's names, titles and credits. A fallback is only embedded in a
# contract that needs one of its characters. All have TrueType outlines, whose text PDF readers
# extract as typed (the CFF outlines of Noto's CJK fonts are embedded in a way they misread).
FONTS = (
    ContractFont("NotoSans", NOTO / "NotoSans-Regular.ttf", bold=NOTO / "NotoSans-Bold.ttf"),
    *(ContractFont(f"NotoSans{script}", NOTO / f"NotoSans{script}-Regular.ttf")
      for script in ("Arabic", "Hebrew", "Devanagari", "Bengali", "Tamil", "Thai", "Ethiopic")),
    # fonts-droid-fallback: Chinese and Japanese; it has only a handful of Hangul syllables.
    ContractFont("DroidSansFallback", Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
                 leaves=HANGUL),
    # fonts-nanum: Korean (every Hangul syllable).
    ContractFont("NanumGothic", Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")),
    # fonts-dejavu-core: symbols and letters the fonts above leave out.
    ContractFont("DejaVuSans", Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    # fonts-symbola: emoji, in black and white (PDF fonts cannot be colour bitmaps).
    ContractFont("Symbola", Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf")),
)


@functools.cache
def _characters_of(font: ContractFont) -> frozenset[int]:
    with TTFont(font.path, lazy=True) as loaded:
        return frozenset(code for code in loaded.getBestCmap()
                         if not any(code in left for left in font.leaves))


def _invisible(character: str) -> bool:
    """Spaces and format characters (joiners, variation selectors, direction marks) print
    nothing of their own, so no font needs a glyph for them."""
    return (character.isspace() or unicodedata.category(character) == "Cf"
            or "\ufe00" <= character <= "\ufe0f" or "\U000e0100" <= character <= "\U000e01ef")


def fonts_for(text: str) -> list[ContractFont]:
    """The main font, and each fallback that prints a character no earlier font has. Refuses a
    text in which a character would be dropped or printed as an empty box."""
    chosen, needed = [FONTS[0]], {ord(ch) for ch in text if not _invisible(ch)} - _characters_of(FONTS[0])
    for font in FONTS[1:]:
        if needed & _characters_of(font):
            chosen.append(font)
            needed -= _characters_of(font)
    if needed:
        raise ContractIncomplete(f"no font has these characters: {''.join(map(chr, sorted(needed)))!r}")
    return chosen


def check_printable(text: str) -> None:
    """Refuse to render a contract in which a character would be silently dropped."""
    fonts_for(text)


@dataclasses.dataclass(frozen=True)
class Verification:
    """Where the contract's reader checks the license: its number and the address of its
    certificate and current status, printed and as a QR code."""

    license_number: str
    url: str


def render_contract_pdf(text: str, out: Path, title: str, verification: Verification | None = None) -> None:
    pdf = document_pdf(text, title)
    for paragraph in paragraphs(text):
        _write(pdf, paragraph, pdf.main_family)
    if verification is not None:
        _write_verification(pdf, verification, pdf.main_family)
    save_document_pdf(pdf, out)


def document_pdf(text: str, title: str) -> FPDF:
    """An A4 page with the fonts `text` needs and text shaping on: contracts and split sheets
    are printed with it, so every name prints in both as it does in the other."""
    fonts = fonts_for(text)
    pdf = _ContractPDF(fonts)
    pdf.set_title(title)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    for font in fonts:
        pdf.add_font(font.family, "", str(font.path))
        if font.bold:
            pdf.add_font(font.family, "B", str(font.bold))
    # A bold word in a script the bold font lacks is printed in the script's regular font.
    pdf.set_fallback_fonts([font.family for font in fonts[1:]], exact_match=False)
    # HarfBuzz shaping: Indic conjuncts and vowel signs, Thai marks, Arabic joining, and the
    # right-to-left order of Arabic and Hebrew.
    pdf.set_text_shaping(True)
    pdf.add_page()
    return pdf


def save_document_pdf(pdf: FPDF, out: Path) -> None:
    """Write the PDF, refusing one in which a character was printed without a glyph."""
    missing = {chr(code) for font in pdf.fonts.values() for code in font.missing_glyphs}
    if any(not _invisible(character) for character in missing):
        raise ContractIncomplete(f"characters printed without a glyph: {''.join(sorted(missing))!r}")
    pdf.output(str(out))


class _ContractPDF(FPDF):
    """Picks each character's fallback font as fonts_for() chose them."""

    def __init__(self, fonts: list[ContractFont]) -> None:
        super().__init__(format="A4")
        self.main_family = fonts[0].family
        self._characters = {font.family.lower(): _characters_of(font) for font in fonts}

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        return next((key for key in self._fallback_font_ids
                     if ord(char) in self._characters.get(key, ())), None)


def _write(pdf: FPDF, paragraph: Paragraph, family: str) -> None:
    if paragraph.kind == "title":
        pdf.set_font(family, "B", 15)
        pdf.multi_cell(0, 9, paragraph.text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        return
    pdf.set_font(family, "", 10.5)
    if paragraph.kind == "item":
        # A hanging indent: the dash sits in the margin of the item's own lines.
        pdf.set_x(pdf.l_margin + 4)
        pdf.cell(4, 5.5, "–")
        pdf.multi_cell(0, 5.5, paragraph.text[2:], new_x="LMARGIN", new_y="NEXT", align="L")
    else:
        pdf.multi_cell(0, 5.5, paragraph.text, new_x="LMARGIN", new_y="NEXT", align="J")
    if paragraph.ends_block:
        pdf.ln(2.5)


QR_SIDE_MM = 32


def _write_verification(pdf: FPDF, verification: Verification, family: str) -> None:
    """The QR code of the verification address, with the license number and the address in
    words beside it, kept together on one page."""
    if pdf.get_y() + QR_SIDE_MM + 12 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    top, left = pdf.get_y(), pdf.l_margin
    _draw_qr(pdf, verification.url, left, top, QR_SIDE_MM)
    text_left = left + QR_SIDE_MM + 6
    pdf.set_xy(text_left, top + 4)
    pdf.set_font(family, "B", 10.5)
    pdf.cell(0, 5.5, "VERIFYING THIS LICENSE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10.5)
    for line in (f"License number: {verification.license_number}",
                 "Scan the code, or open the address below it, to see whether this license is valid today "
                 "and to download its certificate, signed by the platform."):
        pdf.set_x(text_left)
        pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT", align="L")
    # The address on a line of its own, small enough to be whole on it.
    pdf.set_y(max(pdf.get_y(), top + QR_SIDE_MM) + 1)
    pdf.set_font(family, "", 9)
    pdf.multi_cell(0, 4.5, verification.url, new_x="LMARGIN", new_y="NEXT", align="L")


def _draw_qr(pdf: FPDF, data: str, left: float, top: float, side: float) -> None:
    """Draw a QR code as filled squares (sharp at any zoom), with its quiet zone left white.
    Medium error correction: still readable from a printed, folded page."""
    code = segno.make_qr(data, error="m")
    border = 4  # modules of quiet zone the standard asks for
    rows = list(code.matrix_iter(border=border))
    module = side / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            # One rectangle per run of dark modules in a row, a hair taller so rows never show a seam.
            pdf.rect(left + start * module, top + y * module, (x - start) * module, module * 1.02, style="F")
