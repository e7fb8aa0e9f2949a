"""Real audio, made with ffmpeg for the tests: beats, tags and broken files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_beat(path: Path, seconds: float = 20, *, rate: int = 44100, channels: int = 2,
              extra: tuple[str, ...] = ()) -> Path:
    """A beat-like signal: a bass note, a chord and soft noise (no tag in it)."""
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=55:duration={seconds}:sample_rate={rate}",
           "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}:sample_rate={rate}",
           "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:a=0.05:r={rate}:seed=3",
           "-filter_complex", "amix=inputs=3:normalize=0,volume=0.6", "-ac", str(channels), "-ar", str(rate),
           *extra, str(path))
    return path


def make_tag(path: Path, seconds: float = 1.0) -> Path:
    """A distinctive tag: a rising chirp, easy to find again by cross-correlation."""
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc=0.8*sin(2*PI*(400*t+1200*t*t)):d={seconds}:s=44100",
           "-ac", "1", str(path))
    return path


def decode_mono(path: Path, rate: int = 8000) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "pipe:1"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def tag_positions(preview: Path, tag: Path, rate: int = 8000, threshold: float = 0.5) -> list[float]:
    """Seconds where `tag` occurs in `preview`: peaks of their normalised cross-correlation."""
    signal, template = decode_mono(preview, rate), decode_mono(tag, rate)
    template = template - template.mean()
    size = 1 << int(np.ceil(np.log2(len(signal) + len(template))))
    correlation = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size)), size)
    correlation = correlation[: len(signal) - len(template) + 1]
    # Normalise by the energy of each window of the signal.
    energy = np.sqrt(np.convolve(signal**2, np.ones(len(template)), mode="valid")) * np.linalg.norm(template)
    score = correlation / np.maximum(energy, 1e-9)
    positions, index = [], 0
    while index < len(score):
        if score[index] > threshold:
            window = score[index: index + rate // 2]
            best = index + int(np.argmax(window))
            positions.append(best / rate)
            index = best + rate // 2
        else:
            index += 1
    return positions


def make_song(path: Path, seconds: float = 40, *, seed: int = 1, rate: int = 44100, bass_hz: float = 55) -> Path:
    """A stereo song-like signal that never repeats exactly: random notes with harmonics over
    a bass line, and noise hits (hi-hats) at random places."""
    rng = np.random.default_rng(seed)
    samples = int(seconds * rate)
    time = np.arange(samples) / rate
    note_length = int(0.25 * rate)
    pitches = 220 * 2 ** (rng.choice([0, 2, 3, 5, 7, 8, 10, 12], size=samples // note_length + 1) / 12)
    frequency = np.repeat(pitches, note_length)[:samples]
    phase = 2 * np.pi * np.cumsum(frequency) / rate
    envelope = np.exp(-3 * (np.arange(samples) % note_length) / note_length)
    melody = envelope * sum(np.sin(k * phase) / k for k in range(1, 8))
    bass = 0.8 * np.sin(2 * np.pi * bass_hz * time) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.31 * time))
    hats = rng.normal(size=samples) * np.repeat(rng.random(samples // 2205 + 1) < 0.4, 2205)[:samples]
    hats *= np.exp(-40 * (np.arange(samples) % 2205) / rate)
    left = 0.25 * melody + 0.3 * bass + 0.06 * hats
    right = 0.2 * melody + 0.3 * bass + 0.06 * np.roll(hats, 300)
    stereo = np.stack([left, right], axis=1).astype("<f4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", "2",
                    "-i", "pipe:0", "-c:a", "pcm_s16le", str(path)], input=stereo.tobytes(), check=True)
    return path
