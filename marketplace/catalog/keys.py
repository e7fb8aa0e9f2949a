"""Musical keys: every common spelling maps to one canonical name.

"F#m", "F sharp minor", "f♯ min", "Gbm" and the Camelot code "11A" all name one key, stored
as "F# minor". Canonical spellings follow the usual key signatures: flats for Db, Eb, Ab and
Bb major and for Eb and Bb minor, sharps elsewhere.
"""

from __future__ import annotations

import re

MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]
CANONICAL_KEYS = [f"{name} major" for name in MAJOR_NAMES] + [f"{name} minor" for name in MINOR_NAMES]

_NATURAL_PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTAL = {"": 0, "#": 1, "sharp": 1, "b": -1, "flat": -1}
_MINOR_WORDS = {"m", "min", "minor"}
_MAJOR_WORDS = {"", "maj", "major"}

_SPELLING = re.compile(r"^([a-g])(#|sharp|b|flat)?(m|min|minor|maj|major)?$")
_CAMELOT = re.compile(r"^(1[0-2]|[1-9])([ab])$")
# Camelot wheel: number -> pitch class of the minor (A) and major (B) key.
_CAMELOT_MINOR = {1: 8, 2: 3, 3: 10, 4: 5, 5: 0, 6: 7, 7: 2, 8: 9, 9: 4, 10: 11, 11: 6, 12: 1}
_CAMELOT_MAJOR = {1: 11, 2: 6, 3: 1, 4: 8, 5: 3, 6: 10, 7: 5, 8: 0, 9: 7, 10: 2, 11: 9, 12: 4}


class UnknownKey(ValueError):
    pass


def _name(pitch_class: int, minor: bool) -> str:
    names = MINOR_NAMES if minor else MAJOR_NAMES
    return f"{names[pitch_class % 12]} {'minor' if minor else 'major'}"


def normalise_key(spelling: str) -> str:
    """The canonical name of a key, or UnknownKey when the spelling names none."""
    text = spelling.strip().lower().replace("♯", "#").replace("♭", "b")
    text = re.sub(r"[\s\-_.]+", "", text)
    camelot = _CAMELOT.match(text)
    if camelot:
        number, letter = int(camelot.group(1)), camelot.group(2)
        table = _CAMELOT_MINOR if letter == "a" else _CAMELOT_MAJOR
        return _name(table[number], minor=letter == "a")
    match = _SPELLING.match(text)
    if not match:
        raise UnknownKey(spelling)
    note, accidental, mode = match.group(1), match.group(2) or "", match.group(3) or ""
    pitch_class = _NATURAL_PITCH[note] + _ACCIDENTAL[accidental]
    return _name(pitch_class, minor=mode in _MINOR_WORDS)
