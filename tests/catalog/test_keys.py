from __future__ import annotations

import pytest

from marketplace.catalog.keys import CANONICAL_KEYS, UnknownKey, normalise_key


@pytest.mark.parametrize("spelling", ["F#m", "F# minor", "F sharp minor", "f♯ min", "Gbm", "G flat minor",
                                      "gb-minor", "F#min", " f#M ", "11A", "F-sharp minor"])
def test_spellings_of_f_sharp_minor(spelling):
    assert normalise_key(spelling) == "F# minor"


@pytest.mark.parametrize("spelling, canonical", [
    ("C", "C major"), ("Cmaj", "C major"), ("C major", "C major"), ("8B", "C major"),
    ("Am", "A minor"), ("a minor", "A minor"), ("8A", "A minor"),
    ("Bb", "Bb major"), ("A#", "Bb major"), ("B flat", "Bb major"), ("B♭ major", "Bb major"),
    ("Bbm", "Bb minor"), ("bm", "B minor"), ("B", "B major"),
    ("C#", "Db major"), ("Db", "Db major"), ("C#m", "C# minor"), ("Dbm", "C# minor"),
    ("D#m", "Eb minor"), ("Ebm", "Eb minor"), ("G#m", "G# minor"), ("Abm", "G# minor"),
    ("E#", "F major"), ("Cb", "B major"), ("12A", "C# minor"), ("1B", "B major"),
])
def test_enharmonic_spellings_share_one_canonical_name(spelling, canonical):
    assert normalise_key(spelling) == canonical


def test_every_canonical_name_is_its_own_normal_form():
    assert len(CANONICAL_KEYS) == 24
    for name in CANONICAL_KEYS:
        assert normalise_key(name) == name


@pytest.mark.parametrize("spelling", ["H", "", "F##", "minor", "C lydian", "13A", "0B", "Am7", "X#m"])
def test_unknown_spellings_are_refused(spelling):
    with pytest.raises(UnknownKey):
        normalise_key(spelling)
