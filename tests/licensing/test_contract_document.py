"""A contract reads as a document: flowing paragraphs, the parties and how to reach them, the
law that governs it, how each party accepted it, and words that are true of the sale."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from config import DEVELOPMENT_GOVERNING_LAW, ConfigurationError, ProductionConfig, config_for
from marketplace.licensing.contracts import (
    CURRENT_TEMPLATE,
    FONTS,
    contract_values,
    paragraphs,
    render_contract_pdf,
    render_contract_text,
)
from marketplace.licensing.defaults import DEFAULT_TIERS
from tests.licensing.pdf_fonts import extracted_text, render_png
from tests.licensing.test_contracts import PARTIES, fake_license

TIER_IDS = [tier["name"] for tier in DEFAULT_TIERS]
TEXT_WIDTH_MM = 210 - 2 * 20 - 2 * 1  # A4 less the page margins and the cell padding (1 mm a side)
BODY_SIZE = 10.5


def rendered(tmp_path, default, earlier_leases=0):
    text = render_contract_text(CURRENT_TEMPLATE[default["kind"]],
                                contract_values(fake_license(default), earlier_leases, PARTIES))
    out = tmp_path / f"{default['name']}.pdf"
    render_contract_pdf(text, out, default["name"])
    return text, out.read_bytes()


def page_lines(pdf: bytes) -> list[str]:
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [line.strip() for page in reader.pages
            for line in page.extract_text().splitlines() if line.strip()]


def measure() -> FPDF:
    pdf = FPDF()
    pdf.add_font("Body", "", str(FONTS[0].path))
    pdf.set_font("Body", "", BODY_SIZE)
    return pdf


@pytest.mark.parametrize("default", DEFAULT_TIERS, ids=TIER_IDS)
def test_paragraphs_flow_a_line_breaks_only_where_the_next_word_does_not_fit(tmp_path, default):
    text, pdf = rendered(tmp_path, default)
    lines, ruler = page_lines(pdf), measure()
    flowing = [p.text for p in paragraphs(text) if p.kind == "text"]
    position, wrapped = 0, 0
    for paragraph in flowing:
        while not lines[position].startswith(paragraph[:20]):
            position += 1
        taken = [lines[position]]
        while " ".join(" ".join(taken).split()) != paragraph:
            position += 1
            taken.append(lines[position])
        wrapped += len(taken) > 1
        for line, following in zip(taken, taken[1:]):
            # The first word of the next line would have fit: a forced break inside the paragraph.
            wider = ruler.get_string_width(f"{line} {following.split()[0]}")
            assert wider > TEXT_WIDTH_MM - 0.5, (line, following)
    assert wrapped >= 5  # the check above did check something


@pytest.mark.parametrize("default", DEFAULT_TIERS, ids=TIER_IDS)
def test_each_default_tier_names_the_parties_the_law_and_the_acceptance(tmp_path, default):
    _text, pdf = rendered(tmp_path, default)
    text = extracted_text(pdf)
    assert "THE PARTIES. – Producer: Metro, metro@example.com – Licensee: Ann Artist, ann@example.com" in text
    assert "GOVERNING LAW. This agreement is governed by the laws of England and Wales." in text
    assert ("ACCEPTANCE. – Licensee: Ann Artist accepted this agreement online on March 01, 2026 "
            "at 12:00 UTC, by paying for this license on Beat marketplace.") in text
    assert (f"– Producer: Metro accepted it through the terms of Beat marketplace, under which every license "
            f"of the tier \"{default['name']}\" is sold on these terms.") in text
    assert "needs no handwritten signature" in text
    for wrong in ("(0 issued)", "perpetuity (no end date)", "untagged", "[", "]", "$"):
        assert wrong not in text, wrong
    # Rendered to a picture too, as a reader sees it (pytest -s prints where).
    pages = render_png(pdf, tmp_path, default["name"].replace(" ", "-"))
    print(f"{default['name']}: {', '.join(map(str, pages))}")


def test_the_mp3_is_described_as_it_is_delivered():
    basic = next(t for t in DEFAULT_TIERS if t["name"] == "Basic lease")
    values = contract_values(fake_license(basic), 0, PARTIES)
    assert values["deliverables"] == "MP3 (320 kbps, without the voice tag; its ID3 tags name this license)"


@pytest.mark.parametrize("years, words", [(None, "in perpetuity"), (1, "for a term of 1 year"),
                                          (10, "for a term of 10 years")])
def test_the_term_is_said_once(years, words):
    unlimited = {**DEFAULT_TIERS[3], "term_years": years}
    assert contract_values(fake_license(unlimited), 0, PARTIES)["term"] == words


@pytest.mark.parametrize("earlier, words", [
    (0, "No non-exclusive license of the Beat was sold before this date;"),
    (1, "One non-exclusive license was sold before this date and stays valid under its own terms,"),
    (1200, "1,200 non-exclusive licenses were sold before this date and stay valid under their own terms,"),
])
def test_earlier_leases_are_counted_in_words(earlier, words):
    exclusive = DEFAULT_TIERS[-1]
    text = render_contract_text("exclusive-v2", contract_values(fake_license(exclusive), earlier, PARTIES))
    assert words in " ".join(text.split())
    assert "issued)" not in text


def test_development_has_a_governing_law_and_production_must_set_one():
    assert config_for("development").CONTRACT_GOVERNING_LAW == DEVELOPMENT_GOVERNING_LAW
    with pytest.raises(ConfigurationError, match="CONTRACT_GOVERNING_LAW must name the law"):
        ProductionConfig.check({"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql+psycopg://db/x",
                                "STRIPE_SECRET_KEY": "sk", "STRIPE_WEBHOOK_SECRET": "wh",
                                "PUBLIC_BASE_URL": "https://beats.example", "REDIS_URL": "redis://r"})


@pytest.mark.parametrize("value", ["", "   ", "[governing law]", "<country>", "{law}"])
def test_a_blank_or_placeholder_governing_law_is_refused(value):
    with pytest.raises(ConfigurationError, match="CONTRACT_GOVERNING_LAW is printed in every contract"):
        config_for("development").check({"CONTRACT_GOVERNING_LAW": value})
