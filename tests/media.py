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
