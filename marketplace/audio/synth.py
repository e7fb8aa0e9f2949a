"""Audio made from nothing, for the demo store: beats (drums, bass and chords in a key, at a
tempo, in a genre's groove) and short producer tags. Pure numpy and the standard library, so
seeding a store needs no sample files and no network.

The beats are simple but musical enough to hear the difference between a preview (with its tag)
and a delivered file, and their parts double as real stems.
"""

from __future__ import annotations

import dataclasses
import math
import wave
import zipfile
from pathlib import Path

import numpy as np

RATE = 44_100
# Semitones of each chord's root above the key's tonic, and its quality, per bar.
MINOR_PROGRESSION = [(0, "minor"), (8, "major"), (3, "major"), (10, "major")]  # i VI III VII
MAJOR_PROGRESSION = [(0, "major"), (9, "minor"), (5, "major"), (7, "major")]  # I vi IV V
CHORD_SHAPES = {"minor": (0, 3, 7), "major": (0, 4, 7)}
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]
NOTE_ALIASES = {"Db": "C#", "D#": "Eb", "Gb": "F#", "Ab": "G#", "A#": "Bb"}


@dataclasses.dataclass(frozen=True)
class Groove:
    """Where the drums hit within a bar of 16 steps."""

    kicks: tuple[int, ...]
    snares: tuple[int, ...]
    hats: tuple[int, ...]
    swing: float = 0.0  # fraction of a step that every second step is late


GROOVES = {
    "trap": Groove(kicks=(0, 7, 10), snares=(8,), hats=tuple(range(16))),
    "drill": Groove(kicks=(0, 6, 11), snares=(8, 14), hats=(0, 3, 6, 8, 11, 14)),
    "boom bap": Groove(kicks=(0, 7, 10), snares=(4, 12), hats=tuple(range(0, 16, 2)), swing=0.3),
    "lo-fi": Groove(kicks=(0, 9), snares=(4, 12), hats=tuple(range(0, 16, 2)), swing=0.4),
    "afrobeats": Groove(kicks=(0, 6, 8, 14), snares=(4, 12), hats=(2, 3, 6, 10, 11, 14)),
    "r&b": Groove(kicks=(0, 3, 10), snares=(4, 12), hats=tuple(range(0, 16, 2))),
}


@dataclasses.dataclass
class Parts:
    """A beat's parts, each a stereo float array of the same length."""

    drums: np.ndarray
    bass: np.ndarray
    chords: np.ndarray

    def mix(self) -> np.ndarray:
        return normalise(self.drums + self.bass + self.chords)


def parse_key(key: str) -> tuple[int, bool]:
    """("F# minor") -> (6, True): the tonic's pitch class and whether the key is minor."""
    name, mode = key.split()
    return NOTE_NAMES.index(NOTE_ALIASES.get(name, name)), mode == "minor"


def frequency(midi_note: float) -> float:
    return 440.0 * 2 ** ((midi_note - 69) / 12)


def compose(key: str, bpm: int, genre: str, seconds: float = 30.0) -> Parts:
    """At least `seconds` of whole bars of a beat in `key` at `bpm`, drummed in the genre's groove."""
    tonic, minor = parse_key(key)
    progression = MINOR_PROGRESSION if minor else MAJOR_PROGRESSION
    bar_seconds = 4 * 60 / bpm
    bars = max(4, math.ceil(seconds / bar_seconds))
    length = int(bars * bar_seconds * RATE) + RATE // 2  # half a second for the last tail
    groove = GROOVES.get(genre, GROOVES["trap"])
    parts = Parts(*(np.zeros((length, 2)) for _ in range(3)))
    rng = np.random.default_rng(bpm * 100 + tonic)
    step = bar_seconds / 16
    for bar in range(bars):
        bar_start = bar * bar_seconds
        root, quality = progression[bar % len(progression)]
        chord_root = 48 + tonic + root  # around C3
        for index in range(16):
            at = bar_start + index * step + (groove.swing * step if index % 2 else 0.0)
            if index in groove.kicks:
                add(parts.drums, kick(), at, pan=0.0)
            if index in groove.snares:
                add(parts.drums, snare(rng), at, pan=0.0)
            if index in groove.hats and not (bar == bars - 1 and index > 12):
                add(parts.drums, hat(rng, accent=index % 4 == 0), at, pan=0.25)
        add(parts.bass, bass_note(frequency(chord_root - 12), bar_seconds), bar_start, pan=0.0)
        for offset, interval in enumerate(CHORD_SHAPES[quality]):
            pan = (-0.4, 0.0, 0.4)[offset]
            note = pad_note(frequency(chord_root + 12 + interval), bar_seconds)
            add(parts.chords, note, bar_start, pan=pan)
    return parts


def envelope(length: int, decay_seconds: float) -> np.ndarray:
    return np.exp(-np.arange(length) / (decay_seconds * RATE))


def kick() -> np.ndarray:
    length = int(0.35 * RATE)
    t = np.arange(length) / RATE
    pitch = 45 + 90 * np.exp(-t * 30)  # a falling thump
    return 0.9 * np.sin(2 * np.pi * np.cumsum(pitch) / RATE) * envelope(length, 0.12)


def snare(rng: np.random.Generator) -> np.ndarray:
    length = int(0.25 * RATE)
    t = np.arange(length) / RATE
    body = 0.3 * np.sin(2 * np.pi * 185 * t) * envelope(length, 0.04)
    return body + 0.35 * rng.standard_normal(length) * envelope(length, 0.07)


def hat(rng: np.random.Generator, accent: bool) -> np.ndarray:
    length = int(0.06 * RATE)
    noise = np.diff(rng.standard_normal(length + 1))  # differencing keeps the highs
    return (0.12 if accent else 0.07) * noise * envelope(length, 0.015)


def bass_note(hz: float, seconds: float) -> np.ndarray:
    length = int(seconds * RATE)
    t = np.arange(length) / RATE
    tone = np.tanh(1.8 * np.sin(2 * np.pi * hz * t))  # a little drive, like an 808
    return 0.35 * tone * envelope(length, seconds * 0.6)


def pad_note(hz: float, seconds: float) -> np.ndarray:
    length = int(seconds * RATE)
    t = np.arange(length) / RATE
    tone = np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(2 * np.pi * 2.003 * hz * t)
    attack = np.minimum(1.0, t / 0.08)
    return 0.08 * tone * attack * envelope(length, seconds * 0.8)


def add(track: np.ndarray, sound: np.ndarray, at_seconds: float, pan: float) -> None:
    """Mix a mono sound into a stereo track at a time, panned (-1 left, 1 right)."""
    start = int(at_seconds * RATE)
    end = min(len(track), start + len(sound))
    if start >= end:
        return
    gains = (math.cos((pan + 1) * math.pi / 4), math.sin((pan + 1) * math.pi / 4))
    for channel, gain in enumerate(gains):
        track[start:end, channel] += gain * sound[: end - start]


def normalise(signal: np.ndarray, peak: float = 0.89) -> np.ndarray:
    loudest = float(np.max(np.abs(signal))) or 1.0
    return signal * (peak / loudest)


def producer_tag(midi_notes: tuple[int, ...] = (76, 79, 84)) -> np.ndarray:
    """A short chime of a few notes (mono), a beatmaker's audible tag: different notes make
    tags that are told apart by ear."""
    pieces = []
    for hz in (frequency(note) for note in midi_notes):
        length = int(0.22 * RATE)
        t = np.arange(length) / RATE
        pieces.append(np.sin(2 * np.pi * hz * t) * envelope(length, 0.09) * np.minimum(1.0, t / 0.005))
    return normalise(np.concatenate(pieces), peak=0.8)


def write_wav(path: Path, signal: np.ndarray) -> Path:
    """16-bit PCM WAV; a 1-D signal is written mono, an (n, 2) one stereo."""
    channels = 1 if signal.ndim == 1 else signal.shape[1]
    samples = np.clip(signal, -1.0, 1.0) * 32767
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def write_stems_zip(path: Path, parts: Parts, folder: Path) -> Path:
    """The parts as separate mono WAV files in one ZIP, as a trackout is delivered (mono keeps
    the demo store small)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("drums", "bass", "chords"):
            stem = write_wav(folder / f"{name}.wav", normalise(getattr(parts, name).mean(axis=1)))
            archive.write(stem, f"{name}.wav")
            stem.unlink()
    return path
