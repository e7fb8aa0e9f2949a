"""A leak of a demo beat (synthesised: drums, bass and chords, little between 1 and 6 kHz) goes
through what a leak really goes through: a 30-second excerpt, loudness-normalised, sung over at
equal loudness, resampled to 48 kHz and encoded as AAC at 128 kbps. Its mark still names the
right one of two buyers, and the marks stay under the masking threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from marketplace.audio import synth, watermark
from marketplace.audio.deliver import encode_mp3
from tests.media import ffmpeg

RATE = watermark.RATE


def sung_line(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voice-like line: a harmonic tone with vibrato on a new note every half second, its
    harmonics shaped by two formants, with breath noise."""
    t = np.arange(int(seconds * RATE)) / RATE
    notes = 220 * 2 ** (rng.choice([0, 2, 3, 5, 7, 9], size=int(seconds * 2) + 1) / 12)
    f0 = notes[(t * 2).astype(int)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voice = np.zeros_like(t)
    for harmonic in range(1, 25):
        hz = harmonic * 330
        formants = math.exp(-((hz - 700) / 300) ** 2) + 0.5 * math.exp(-((hz - 2500) / 600) ** 2) + 0.05
        voice += formants / harmonic * np.sin(harmonic * phase)
    voice += 0.02 * rng.standard_normal(len(t))
    return voice.astype(np.float32)


@pytest.fixture(scope="module")
def demo_beat(tmp_path_factory):
    beat = synth.compose("F# minor", 140, "trap", seconds=45)
    return synth.write_wav(tmp_path_factory.mktemp("leak") / "master.wav", beat.mix())


def leak_chain(delivered, folder, start_seconds: float):
    """Excerpt, loudness normalisation, a vocal at equal loudness, 48 kHz AAC 128 kbps."""
    normalised = folder / f"{delivered.stem}-normalised.wav"
    ffmpeg("-ss", str(start_seconds), "-t", "30", "-i", str(delivered), "-af", "loudnorm=I=-14:TP=-1:LRA=11",
           "-ar", str(RATE), "-ac", "2", str(normalised))
    music = watermark.decode(normalised)
    voice = sung_line(len(music) / RATE, np.random.default_rng(3))[: len(music), None]
    voice *= math.sqrt(float(np.mean(music ** 2)) / float(np.mean(voice ** 2)))
    sung = folder / f"{delivered.stem}-sung.f32"
    sung.write_bytes((music + voice).astype("<f4").tobytes())
    leak = folder / f"{delivered.stem}-leak.m4a"
    ffmpeg("-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", str(sung), "-ar", "48000", "-c:a", "aac", "-b:a", "128k",
           str(leak))
    return leak


def test_a_demo_beat_leaked_through_the_whole_chain_names_the_right_buyer(demo_beat, tmp_path):
    seeds = {"first buyer": b"first buyer's seed", "second buyer": b"second buyer's seed"}
    master = watermark.mono_mix(watermark.decode(demo_beat))
    for index, (buyer, seed) in enumerate(seeds.items()):
        delivered = tmp_path / f"buyer-{index}.mp3"
        encode_mp3(demo_beat, delivered, mark_seed=seed)
        suspect = watermark.mono_mix(watermark.decode(leak_chain(delivered, tmp_path, start_seconds=4 + 7 * index)))
        detection = watermark.detect(suspect, master, seeds)
        assert watermark.decide(detection) == buyer, detection.scores


def test_the_mark_stays_under_the_masking_threshold_even_before_drum_hits(demo_beat):
    master = watermark.decode(demo_beat)
    marked = watermark.embed(master, b"a seed")
    mono, mark = watermark.mono_mix(master), watermark.mono_mix(marked - master)
    count = watermark.frame_count(len(mono))
    threshold = watermark.masking_threshold(watermark._frames(mono, 0, count))
    present = watermark.band_power(watermark._frames(mark, 0, count))
    # Under the threshold in (almost) every frame and band: the random phases let a band's
    # power vary about its expected level, which sits MASK_SAFETY_DB lower.
    assert np.mean(present > threshold) < 0.001
    # Before a hit the mark is no louder than the block around it allows (pre-echo).
    allowed = watermark._block_power(mono) * 10 ** (-watermark.BLOCK_SMR_DB / 10)
    assert np.all(watermark._block_power(mark) <= allowed * 1.001)
    whole, worst_second = watermark.signal_to_mark(master, marked)
    assert whole >= 35 and worst_second >= 25
