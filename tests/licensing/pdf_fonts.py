"""What a PDF really prints: its text as readers extract it, the characters its embedded fonts
draw, and its pages as images."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from pathlib import Path

import pypdf
from fontTools.ttLib import TTFont

_MAPPING = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def extracted_text(pdf: bytes) -> str:
    """The text as a reader copies it, every run of whitespace made one space."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join("\n".join(page.extract_text() for page in reader.pages).split())


def invisible(character: str) -> bool:
    """Spaces, joiners, variation selectors and direction marks: nothing to draw."""
    return (character.isspace() or unicodedata.category(character) == "Cf"
            or "\ufe00" <= character <= "\ufe0f")


def drawn_characters(pdf: bytes) -> tuple[set[str], list[str]]:
    """The characters the embedded fonts draw (from each glyph's Unicode mapping), and the
    problems found: a glyph that is the font's "missing glyph" (.notdef) or has no outline."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    drawn: set[str] = set()
    problems: list[str] = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            name = str(font["/BaseFont"])
            embedded = TTFont(io.BytesIO(descendant["/FontDescriptor"]["/FontFile2"].get_data()))
            order = embedded.getGlyphOrder()
            cid_to_gid = descendant["/CIDToGIDMap"].get_object().get_data()
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
                for cid_hex, text_hex in _MAPPING.findall(block):
                    cid = int(cid_hex, 16)
                    text = bytes.fromhex(text_hex).decode("utf-16-be")
                    gid = int.from_bytes(cid_to_gid[2 * cid:2 * cid + 2], "big")
                    if cid == 0 or all(invisible(ch) for ch in text):
                        continue
                    drawn.update(text)
                    glyph = embedded["glyf"][order[gid]] if gid < len(order) else None
                    if gid == 0 or glyph is None or glyph.numberOfContours == 0:
                        problems.append(f"{name}: {text!r} has no glyph (glyph {gid})")
    return drawn, problems


def render_png(pdf: bytes, folder: Path, name: str) -> list[Path]:
    """Each page as a PNG (poppler's pdftoppm); poppler must not complain about the file."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(["pdftoppm", "-r", "80", "-png", str(source), str(folder / name)],
                          capture_output=True, text=True, check=True)
    assert done.stderr == "", done.stderr
    return sorted(folder.glob(f"{name}-*.png"))
