"""Every name gets a contract: people's names, titles and credits in the scripts they are
written in, each printed with a glyph for every character (on one database: rendering does not
depend on it). The sale and payment of a buyer named with an emoji runs on both, in
tests/checkout/test_contract_names.py."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.licensing.contracts import (
    CURRENT_TEMPLATE,
    ContractIncomplete,
    contract_values,
    render_contract_pdf,
    render_contract_text,
)
from marketplace.licensing.defaults import DEFAULT_TIERS
from tests.licensing.pdf_fonts import drawn_characters, extracted_text, invisible, render_png
from tests.licensing.test_contracts import PARTIES, fake_license

# Extracted as typed: scripts whose text a PDF keeps in reading order, one glyph per character.
AS_TYPED = {
    "latin": ["Zoë Łódź-Ñúñez", "François Dupont", "Søren Kierkegård", "Ağrı Şahin", "Nguyễn Văn An"],
    "greek": ["Γιώργος Παπαδόπουλος", "Ελένη Νικολάου"],
    "cyrillic": ["Пётр Чайковский", "Олена Ковальчук"],
    "cjk": ["佐藤 健", "王小明", "たなか ゆうこ"],
    "hangul": ["김민준", "이서연", "가은 박"],
    "thai": ["สมชาย ใจดี", "ณัฐพล ศรีสุข"],
    "ethiopic": ["አበበ በቀለ", "ሰላም ተስፋዬ"],
    "emoji": ["DJ 🎧 Fan", "Lil 🔥", "🌙 Luna", "MC 🎤 Flow"],
}
# Shaped: right-to-left and Indic text, which extraction returns in visual order (glyphs
# reordered and joined). Checked for glyphs and on a PNG render.
SHAPED = {
    "arabic": ["محمد العلي", "فاطمة الزهراء"],
    "hebrew": ["דוד כהן", "שרה לוי"],
    "devanagari": ["अर्जुन शर्मा", "प्रिया क्षत्रिय"],
    "bengali": ["সৌরভ গঙ্গোপাধ্যায়", "রবীন্দ্রনাথ"],
    "tamil": ["தமிழ்செல்வன்", "ஸ்ரீநிவாசன்"],
}
CORPUS = [(script, name) for group in (AS_TYPED, SHAPED) for script, names in group.items() for name in names]
BASIC = DEFAULT_TIERS[0]


def test_the_corpus_covers_every_script_with_thirty_names_or_more():
    assert len(CORPUS) >= 30
    assert {script for script, _ in CORPUS} >= {
        "latin", "greek", "cyrillic", "cjk", "hangul", "arabic", "hebrew", "devanagari", "bengali", "tamil",
        "thai", "ethiopic", "emoji"}


def contract_pdf(tmp_path, license_, default=BASIC) -> bytes:
    text = render_contract_text(CURRENT_TEMPLATE[default["kind"]], contract_values(license_, 0, PARTIES))
    out = tmp_path / "contract.pdf"
    render_contract_pdf(text, out, "Contract")
    return out.read_bytes()


def assert_every_character_drawn(pdf: bytes, *texts: str) -> None:
    drawn, problems = drawn_characters(pdf)
    assert problems == []
    for text in texts:
        undrawn = {ch for ch in text if not invisible(ch)} - drawn
        assert not undrawn, f"{text!r}: no glyph for {sorted(undrawn)}"


@pytest.mark.parametrize("script, name", [pair for pair in CORPUS if pair[0] in AS_TYPED],
                         ids=[f"{s}-{n}" for s, n in CORPUS if s in AS_TYPED])
def test_a_name_is_printed_and_extracted_as_typed(tmp_path, script, name):
    pdf = contract_pdf(tmp_path, with_buyer(fake_license(BASIC), name))
    assert_every_character_drawn(pdf, name)
    text = extracted_text(pdf)
    assert f'and {name} ("Licensee")' in text, text[:300]
    assert f"Licensee: {name}, ann@example.com" in text


def with_buyer(license_, name):
    license_.buyer_name = name
    return license_


@pytest.mark.parametrize("script, name", [pair for pair in CORPUS if pair[0] in SHAPED],
                         ids=[f"{s}-{n}" for s, n in CORPUS if s in SHAPED])
def test_a_shaped_name_has_every_glyph_and_renders(tmp_path, script, name):
    pdf = contract_pdf(tmp_path, with_buyer(fake_license(BASIC), name))
    assert_every_character_drawn(pdf, name)
    pages = render_png(pdf, tmp_path, script)
    print(f"{script}: {name} rendered to {pages[0]}")  # to look at: pytest -s
    with Image.open(pages[0]) as page:
        assert page.convert("L").getextrema()[0] < 64  # ink on the page: text was drawn


def test_emoji_in_a_title_and_a_credit_are_printed(tmp_path):
    license_ = fake_license(BASIC, title="Night Drive 🌙🚗")
    license_.credits = [{**license_.credits[0], "name": "Metro 🎹"}]
    license_.terms = {**license_.terms, "credit_line": "Prod. by Metro 🎹"}
    pdf = contract_pdf(tmp_path, license_)
    assert_every_character_drawn(pdf, "Night Drive 🌙🚗", "Metro 🎹")
    text = extracted_text(pdf)
    assert '"Night Drive 🌙🚗" (140 BPM, F# minor)' in text
    assert "– Produced by Metro 🎹 (profit share 100%)" in text
    assert 'must credit: "Prod. by Metro 🎹"' in text


def test_joined_emoji_and_skin_tones_are_drawn(tmp_path):
    name = "Ava 👩🏽‍🎤 ❤️"
    pdf = contract_pdf(tmp_path, with_buyer(fake_license(BASIC), name))
    assert_every_character_drawn(pdf, name)


def test_a_character_no_font_draws_is_refused_before_rendering(tmp_path):
    with pytest.raises(ContractIncomplete, match="no font has these characters"):
        contract_pdf(tmp_path, with_buyer(fake_license(BASIC), "Fan \U0001fae8"))
    assert not (tmp_path / "contract.pdf").exists()


def test_a_latin_contract_embeds_only_the_fonts_it_needs(tmp_path):
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(contract_pdf(tmp_path, fake_license(BASIC))))
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts == {"NotoSans", "NotoSansBold"}
