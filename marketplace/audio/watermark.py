"""Inaudible per-license marks in delivered audio, and their informed detection.

The mark is a key-derived pseudo-random pattern of phases (spread spectrum) in the STFT of the
master, over 1-6 kHz, each band shaped a fixed offset under the master's own smoothed power in
that frame (a simple masking threshold), then capped so the whole track and every frame stay far
above it. Detection is informed: it knows the master. It aligns the suspect file to the master,
removes the master (gain-matched per frame and band, which also undoes loudness processing),
and correlates what is left with each candidate key's pattern. Under no mark the score is a
standard normal z-score, whatever the residual holds, because the pattern's entries are
independent of it. See WATERMARK.md beside this file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import subprocess
from pathlib import Path

import numpy as np

from marketplace.audio.errors import AudioProcessingFailed

RATE = 44_100
FRAME = 2048
HOP = FRAME // 2  # a periodic Hann window at 50% overlap adds up to one: seamless synthesis
LOW_HZ, HIGH_HZ = 1_000, 6_000
BAND_BINS = 16  # bins per band of the masking threshold (about 345 Hz)
MASK_OFFSET_DB = 12.0  # the mark's level under the master's smoothed power in each band
TRACK_SMR_DB = 37.0  # signal-to-mark ratio over the whole track
FRAME_SMR_DB = 29.0  # the least signal-to-mark ratio in any frame
BLOCK_FRAMES = 64  # patterns are drawn per block of frames, so an excerpt draws only its own
COARSE_FACTOR = 16  # alignment first at 44.1 kHz / 16
DECODE_TIMEOUT_SECONDS = 300

_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)).astype(np.float32)
_BINS = np.arange(round(LOW_HZ * FRAME / RATE), round(HIGH_HZ * FRAME / RATE))
_BINS = _BINS[: len(_BINS) // BAND_BINS * BAND_BINS]


def decode(path: Path, channels: int = 2) -> np.ndarray:
    """Any audio file ffmpeg reads, as float32 samples at 44.1 kHz, shape (samples, channels)."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
                             "-ac", str(channels), "-ar", str(RATE), "-f", "f32le", "pipe:1"],
                            capture_output=True, timeout=DECODE_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])
    return np.frombuffer(result.stdout, dtype="<f4").reshape(-1, channels)


def _frames(mono: np.ndarray, first: int, count: int) -> np.ndarray:
    """STFT frames first..first+count-1 of a signal (zero past its ends), band bins only."""
    start, stop = first * HOP, (first + count - 1) * HOP + FRAME
    padded = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(mono))
    if hi > lo:
        padded[lo - start: hi - start] = mono[lo:hi]
    windows = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[::HOP][:count]
    return np.fft.rfft(windows * _WINDOW, axis=1)[:, _BINS]


def frame_count(samples: int) -> int:
    return max(1, math.ceil(samples / HOP) + 1)


def pattern(seed: bytes, first: int, count: int) -> np.ndarray:
    """The key's unit phases (1, j, -1, -j) for frames first..first+count-1 and the band bins."""
    blocks = []
    for block in range(first // BLOCK_FRAMES, (first + count - 1) // BLOCK_FRAMES + 1):
        digest = hashlib.sha256(seed + block.to_bytes(8, "big")).digest()
        rng = np.random.default_rng(int.from_bytes(digest, "big"))
        blocks.append(rng.integers(0, 4, size=(BLOCK_FRAMES, len(_BINS))))
    quadrants = np.concatenate(blocks)[first % BLOCK_FRAMES: first % BLOCK_FRAMES + count]
    return np.exp(0.5j * np.pi * quadrants).astype(np.complex64)


def masking_threshold(spectrum: np.ndarray) -> np.ndarray:
    """Per frame and band bin: the amplitude the mark may have, MASK_OFFSET_DB under the
    master's band power smoothed over three frames."""
    power = np.abs(spectrum) ** 2
    bands = power.reshape(len(power), -1, BAND_BINS).mean(axis=2)
    smoothed = bands.copy()
    smoothed[1:] += 0.5 * bands[:-1]
    smoothed[:-1] += 0.5 * bands[1:]
    smoothed /= 2.0
    amplitude = np.sqrt(smoothed) * 10 ** (-MASK_OFFSET_DB / 20)
    return np.repeat(amplitude, BAND_BINS, axis=1)


def mark_signal(master: np.ndarray, seed: bytes) -> np.ndarray:
    """The mono mark for a (samples, channels) master: added to every channel."""
    mono = master.mean(axis=1, dtype=np.float32)
    count = frame_count(len(mono))
    spectrum = _frames(mono, 0, count)
    amplitude = masking_threshold(spectrum)
    # Far under every frame's whole power, not only under its bands (quiet frames stay clean).
    frame_power = _frame_power(mono, count)
    mark_power = (amplitude ** 2).sum(axis=1) * 2 / (FRAME * (_WINDOW ** 2).sum())
    cap = np.sqrt(np.minimum(1.0, frame_power * 10 ** (-FRAME_SMR_DB / 10) / np.maximum(mark_power, 1e-30)))
    shaped = np.zeros((count, FRAME // 2 + 1), dtype=np.complex64)
    shaped[:, _BINS] = amplitude * cap[:, None] * pattern(seed, 0, count)
    mark = _overlap_add(np.fft.irfft(shaped, n=FRAME, axis=1).astype(np.float32), len(mono))
    signal_power, power = float(np.mean(master.astype(np.float64) ** 2)), float(np.mean(mark ** 2))
    if power > 0 and signal_power > 0:
        mark *= math.sqrt(signal_power * 10 ** (-TRACK_SMR_DB / 10) / power)
    return mark


def _frame_power(mono: np.ndarray, count: int) -> np.ndarray:
    """Mean square of each frame, from running sums (no copy of the frames)."""
    sums = np.concatenate([[0.0], np.cumsum(mono.astype(np.float64) ** 2)])
    starts = np.minimum(np.arange(count) * HOP, len(mono))
    ends = np.minimum(starts + FRAME, len(mono))
    return (sums[ends] - sums[starts]) / FRAME


def _overlap_add(frames: np.ndarray, length: int) -> np.ndarray:
    """Windowed frames added at every hop: each half-frame lands on its own HOP-long row."""
    count = len(frames)
    out = np.zeros((count + 1) * HOP, dtype=np.float32)
    frames *= _WINDOW
    out[: count * HOP].reshape(count, HOP)[:] += frames[:, :HOP]
    out[HOP:].reshape(count, HOP)[:] += frames[:, HOP:]
    return out[:length]


def embed(master: np.ndarray, seed: bytes) -> np.ndarray:
    return master + mark_signal(master, seed)[:, None]


def signal_to_mark(master: np.ndarray, marked: np.ndarray) -> tuple[float, float]:
    """(over the track, worst one-second window) in dB."""
    mark = (marked - master).astype(np.float64)
    master = master.astype(np.float64)
    whole = 10 * math.log10(np.sum(master ** 2) / max(np.sum(mark ** 2), 1e-30))
    worst = math.inf
    for start in range(0, max(len(master) - RATE, 0) + 1, RATE // 2):
        signal, noise = np.sum(master[start:start + RATE] ** 2), np.sum(mark[start:start + RATE] ** 2)
        if noise > 0:
            worst = min(worst, 10 * math.log10(max(signal, 1e-30) / noise))
    return whole, worst


@dataclasses.dataclass(frozen=True)
class Alignment:
    offset: int  # suspect sample i is master sample i + offset
    similarity: float  # normalised correlation of the two at that offset, 0..1


def _decimate(mono: np.ndarray) -> np.ndarray:
    usable = len(mono) // COARSE_FACTOR * COARSE_FACTOR
    return mono[:usable].reshape(-1, COARSE_FACTOR).mean(axis=1)


def _correlate(signal: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Linear cross-correlation; index i is lag i - (len(template) - 1)."""
    size = 1 << (len(signal) + len(template) - 1).bit_length()
    product = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size))
    full = np.fft.irfft(product, size)
    return np.concatenate([full[size - len(template) + 1:], full[: len(signal)]])


def align(suspect: np.ndarray, master: np.ndarray, candidates: int = 16) -> list[Alignment]:
    """Where in the master the suspect (mono) may start, best first: peaks of a correlation on
    decimated signals, each refined to the sample. Beats repeat loops exactly, so several
    places may fit as well; the detector tries each. The similarity tells whether the suspect
    is this master at all."""
    coarse_suspect, coarse_master = _decimate(suspect), _decimate(master)
    if len(coarse_suspect) < 64 or len(coarse_master) < 64:
        return [Alignment(0, 0.0)]
    correlation = _correlate(coarse_master, coarse_suspect)
    lags = np.arange(len(correlation)) - (len(coarse_suspect) - 1)
    # Normalised by the master's energy under the suspect at each lag.
    cumulative = np.concatenate([[0.0], np.cumsum(coarse_master.astype(np.float64) ** 2)])
    ends = np.clip(lags + len(coarse_suspect), 0, len(coarse_master))
    starts = np.clip(lags, 0, len(coarse_master))
    energy = np.sqrt(np.maximum(cumulative[ends] - cumulative[starts], 1e-12))
    score = correlation / (energy * max(np.linalg.norm(coarse_suspect), 1e-9))
    # Lags that overlap less than half the suspect are not matches.
    score[(ends - starts) < len(coarse_suspect) // 2] = 0
    peaks = np.flatnonzero((score[1:-1] >= score[:-2]) & (score[1:-1] > score[2:])) + 1
    top = peaks[np.argsort(score[peaks])[::-1][:candidates]] if len(peaks) else [int(np.argmax(score))]
    found = [int(lags[index]) * COARSE_FACTOR for index in top]
    refined = {_refine(suspect, master, offset) for offset in found}
    scored = sorted((Alignment(offset, _similarity(suspect, master, offset)) for offset in refined),
                    key=lambda a: -a.similarity)
    return [a for a in scored if a.similarity >= scored[0].similarity - 0.02][:12]


def _piece(suspect: np.ndarray) -> tuple[int, np.ndarray]:
    """Ten seconds from the middle of the suspect, where an offset is checked."""
    length = min(len(suspect), 10 * RATE)
    start = (len(suspect) - length) // 2
    return start, suspect[start:start + length]


def _master_at(master: np.ndarray, start: int, length: int) -> np.ndarray:
    region = np.zeros(length, dtype=np.float32)
    a, b = max(start, 0), min(start + length, len(master))
    if b > a:
        region[a - start: b - start] = master[a:b]
    return region


def _refine(suspect: np.ndarray, master: np.ndarray, offset: int, reach: int = 2 * COARSE_FACTOR) -> int:
    """The exact offset near a coarse one."""
    start, piece = _piece(suspect)
    region = _master_at(master, start + offset - reach, len(piece) + 2 * reach)
    correlation = _correlate(region, piece)[len(piece) - 1:][: 2 * reach + 1]
    return offset - reach + int(np.argmax(correlation))


def _similarity(suspect: np.ndarray, master: np.ndarray, offset: int) -> float:
    start, piece = _piece(suspect)
    region = _master_at(master, start + offset, len(piece)).astype(np.float64)
    norm = float(np.linalg.norm(region) * np.linalg.norm(piece))
    return max(0.0, float(np.dot(region, piece)) / norm) if norm > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class Detection:
    alignment: Alignment
    scores: dict[str, float]  # candidate -> z-score (a standard normal when not marked with it)
    frames: int
    places: int = 1  # offsets tried: each is one more chance for an unmarked score to run high


def detect(suspect: np.ndarray, master: np.ndarray, seeds: dict[str, bytes],
           alignments: list[Alignment] | None = None) -> Detection:
    """Score each candidate seed against a suspect (mono) of this master (mono): at each
    place the suspect may start, keeping each seed's best."""
    alignments = alignments or align(suspect, master)
    best: Detection | None = None
    for alignment in alignments:
        found = _detect_at(suspect, master, seeds, alignment)
        if best is None:
            best = found
        else:
            scores = {key: max(best.scores[key], found.scores[key]) for key in seeds}
            top = max(found.scores.values(), default=0) > max(best.scores.values(), default=0)
            best = Detection(found.alignment if top else best.alignment, scores, max(best.frames, found.frames),
                             best.places + 1)
    return best


def _detect_at(suspect: np.ndarray, master: np.ndarray, seeds: dict[str, bytes],
               alignment: Alignment) -> Detection:
    offset = alignment.offset
    # Frames of the master's grid wholly inside the suspect.
    first = max(0, math.ceil(offset / HOP))
    last = (offset + len(suspect) - FRAME) // HOP
    count = last - first + 1
    if count < 8:
        return Detection(alignment, {key: 0.0 for key in seeds}, 0)
    on_grid = np.zeros(len(master) + FRAME, dtype=np.float32)
    lo, hi = max(offset, 0), min(offset + len(suspect), len(on_grid))
    on_grid[lo:hi] = suspect[lo - offset: hi - offset]
    observed, reference = _frames(on_grid, first, count), _frames(master, first, count)
    residual, rotation, weight = _residual(observed, reference)
    amplitude = masking_threshold(_frames(master, max(first - 1, 0), count + 2)[(1 if first else 0):][:count])
    weight = weight * amplitude
    scores = {}
    for key, seed in seeds.items():
        expected = rotation * pattern(seed, first, count)
        terms = np.real(residual * np.conj(expected)) * weight
        spread = math.sqrt(float(np.sum((weight ** 2) * np.abs(residual) ** 2)) / 2)
        scores[key] = float(terms.sum()) / spread if spread > 0 else 0.0
    return Detection(alignment, scores, count)


def _residual(observed: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The suspect less the master, gain- and phase-matched per frame and band (undoing gain,
    loudness processing and sub-sample shifts); the phase turn to expect on the mark; and each
    bin's weight, the inverse of its band's residual power."""
    shape = (len(observed), -1, BAND_BINS)
    s, x = observed.reshape(shape), reference.reshape(shape)
    gain = (s * np.conj(x)).sum(axis=2, keepdims=True) / np.maximum((np.abs(x) ** 2).sum(axis=2, keepdims=True),
                                                                     1e-12)
    residual = s - gain * x
    power = (np.abs(residual) ** 2).mean(axis=2, keepdims=True)
    rotation = gain / np.maximum(np.abs(gain), 1e-12)
    weight = np.abs(gain) / np.maximum(power, 1e-12 * max(float(power.mean()), 1e-30))
    expand = (len(observed), -1)
    return (residual.reshape(expand), np.broadcast_to(rotation, s.shape).reshape(expand),
            np.broadcast_to(weight, s.shape).reshape(expand))


# A key is named when its z-score passes this (a chance of about 1e-12 each) and beats every
# other candidate by the margin; otherwise no mark is found.
Z_THRESHOLD = 7.0
Z_MARGIN = 3.0


def decide(detection: Detection, among: set[str] | None = None) -> str | None:
    """The candidate (of `among`, by default all) whose mark the suspect carries, or None:
    never a guess."""
    scores = {key: z for key, z in detection.scores.items() if among is None or key in among}
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best_key, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return best_key if best >= Z_THRESHOLD and best - runner_up >= Z_MARGIN else None


def chance_probability(z: float, candidates: int) -> float:
    """How likely a z-score this high is among `candidates` unmarked ones (one-sided Gaussian tail)."""
    return min(1.0, max(candidates, 1) * 0.5 * math.erfc(z / math.sqrt(2)))
