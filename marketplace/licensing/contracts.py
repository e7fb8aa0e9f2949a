"""License contracts: versioned templates rendered once, at issue, to PDF.

A template is plain text with $placeholders. Rendering refuses to produce a contract with
a missing or empty value, or with any placeholder left: no contract leaves with a blank.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF

from marketplace.common.money import Money
from marketplace.common.text import one_line

# DejaVu covers Latin, Greek, Cyrillic and more; Droid Sans Fallback adds Chinese, Japanese
# and Korean, so names in any of them are printed, never dropped.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FALLBACK_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")

LEASE_V1 = """NON-EXCLUSIVE LICENSE AGREEMENT
License number: $license_number
Date: $issued_on

This agreement is made between $licensor ("Producer") and $licensee ("Licensee") for the
musical composition and instrumental recording "$beat_title" ($beat_details), the "Beat".

1. GRANT. The Producer grants the Licensee a non-exclusive, non-transferable license to use
the Beat in one (1) new song, for a term of $term. The Producer keeps all ownership of the
Beat and may license it to others.

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

9. CREDITS OF THE BEAT.
$credits
"""

EXCLUSIVE_V1 = """EXCLUSIVE RIGHTS AGREEMENT
License number: $license_number
Date: $issued_on

This agreement is made between $licensor ("Producer") and $licensee ("Licensee") for the
musical composition and instrumental recording "$beat_title" ($beat_details), the "Beat".

1. GRANT. The Producer grants the Licensee the exclusive right to use the Beat, for a term
of $term. From today the Producer will not license the Beat to anyone else and removes it
from sale.

2. EARLIER LICENSES. Non-exclusive licenses sold before this date stay valid under their own
terms ($earlier_leases), and so do those whose purchase was already under way at that
moment. The Licensee accepts that those licensees may keep exploiting their songs within
their limits.

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

10. CREDITS OF THE BEAT.
$credits
"""

TEMPLATES = {"lease-v1": LEASE_V1, "exclusive-v1": EXCLUSIVE_V1}
CURRENT_TEMPLATE = {"lease": "lease-v1", "exclusive": "exclusive-v1"}

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


def contract_values(license_: Any, earlier_leases: int) -> dict[str, str]:
    terms, beat = license_.terms, license_.beat_snapshot
    limits = terms["limits"]
    details = [f"{beat['bpm']} BPM"] + ([beat["key"]] if beat.get("key") else [])
    credits = "\n".join(f"- {one_line(c['role_label'])} {one_line(c['name'])}"
                        + (f" (profit share {_percent(c['profit_share_bps'])})" if c.get("profit_share_bps") else "")
                        + (f" (publishing {_percent(c['publishing_share_bps'])})" if c.get("publishing_share_bps") else "")
                        for c in license_.credits)
    values = {
        "license_number": license_.license_number,
        "issued_on": license_.issued_at.astimezone(dt.timezone.utc).strftime("%B %d, %Y"),
        "licensor": beat["beatmaker"],
        "licensee": license_.buyer_name,
        "beat_title": beat["title"],
        "beat_details": ", ".join(details),
        "term": "perpetuity (no end date)" if terms["term_years"] is None else f"{terms['term_years']} years",
        **{name: _count(limits[name]) for name in limits},
        "credit_line": terms["credit_line"],
        "publishing_share": _percent(terms["publishing_share_bps"]),
        "master_points": _percent(terms["master_points_bps"]),
        "content_id": CONTENT_ID_TEXT[terms["content_id"]],
        "samples": SAMPLES_TEXT[terms.get("samples", "none")],
        "deliverables": ", ".join({"mp3": "MP3 (320 kbps, untagged)", "wav": "WAV", "stems": "stems (ZIP)"}[d]
                                  for d in terms["deliverables"]),
        "price": Money(license_.price_amount, license_.currency).formatted(),
        "credits": credits,
        "earlier_leases": f"{earlier_leases} issued" if earlier_leases != 1 else "1 issued",
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


@functools.cache
def _printable_characters() -> frozenset[int]:
    covered: set[int] = set()
    for font in (DEJAVU / "DejaVuSans.ttf", FALLBACK_FONT):
        with TTFont(font, lazy=True) as loaded:
            covered.update(loaded.getBestCmap())
    return frozenset(covered)


def check_printable(text: str) -> None:
    """Refuse to render a contract in which a character would be silently dropped."""
    missing = sorted({ch for ch in text if ord(ch) not in _printable_characters() and not ch.isspace()})
    if missing:
        raise ContractIncomplete(f"no font has these characters: {''.join(missing)!r}")


def render_contract_pdf(text: str, out: Path, title: str) -> None:
    check_printable(text)
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.add_font("Fallback", "", str(FALLBACK_FONT))
    pdf.set_fallback_fonts(["Fallback"], exact_match=False)
    heading, _, body = text.partition("\n")
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 9, heading)
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 10.5)
    pdf.multi_cell(0, 5.5, body)
    pdf.output(str(out))
