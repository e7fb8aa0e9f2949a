"""Text people type that reaches contracts, mails, ID3 tags and file names.

A single-line field (a title, a name, a tier name, a coupon code) is one line of text: no
control character, no line or paragraph separator, and no bidirectional override or
isolate, which would let a name break out of its clause, forge a mail header or show one
text while storing another. What real names need stays: joiners (ZWJ, ZWNJ), variation
selectors, emoji and every script. A multi-line field (a description, report details) may
hold line breaks and tabs, and nothing else of the above.

`one_line` is the other half: whatever reaches a contract clause or a mail header is
flattened, so even a value stored before these rules existed stays inside its clause.
"""

from __future__ import annotations

import re
import unicodedata

import marshmallow as ma

LINE_SEPARATORS = frozenset("\u2028\u2029")
# LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI: they reorder the text shown around them.
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
MULTI_LINE_ALLOWED = frozenset("\n\r\t")

_WHITESPACE_RUN = re.compile(r"\s+")


def _describe(character: str) -> str:
    name = unicodedata.name(character, "a control character")
    return f"U+{ord(character):04X} ({name.lower()})"


def forbidden_character(value: str, *, multi_line: bool = False) -> str | None:
    """The first character a field of this kind must not hold, or None."""
    for character in value:
        if multi_line and character in MULTI_LINE_ALLOWED:
            continue
        if unicodedata.category(character) == "Cc" or character in LINE_SEPARATORS \
                or character in BIDI_CONTROLS:
            return character
    return None


class SingleLine(ma.validate.Validator):
    """One line of text: refused with a message that names the field in words."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, value: str) -> str:
        character = forbidden_character(value)
        if character is not None:
            raise ma.ValidationError(
                f"The {self.label} must be a single line of plain text: it contains {_describe(character)}. "
                "Line breaks, tabs, control characters and text-direction overrides are not allowed.")
        return value


class MultiLine(ma.validate.Validator):
    """Text that may hold line breaks and tabs, and no other control or direction override."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, value: str) -> str:
        character = forbidden_character(value, multi_line=True)
        if character is not None:
            raise ma.ValidationError(
                f"The {self.label} must not contain {_describe(character)}. Line breaks and tabs are "
                "fine; other control characters and text-direction overrides are not.")
        return value


def one_line(value: str) -> str:
    """`value` as one line: every forbidden character and run of whitespace becomes one space."""
    cleaned = "".join(" " if forbidden_character(character) else character for character in str(value))
    return _WHITESPACE_RUN.sub(" ", cleaned).strip()
