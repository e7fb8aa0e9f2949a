"""Inaudible per-license marks in delivered audio, and their informed detection.

The mark is a key-derived pseudo-random pattern of phases (spread spectrum) in the STFT of the
master, from 150 Hz to 11 kHz, shaped under a masking threshold computed per frame and band
from the master (with spreading between bands and a threshold in quiet), the track's budget
poured into the quietest frame-bands first, and held under the master in every 6-ms block (no
mark ahead of a drum hit). Detection is informed: it knows the master. It aligns the suspect
file to the master, removes the master (gain-matched per frame and band, which also undoes loudness processing),
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
LOW_HZ, HIGH_HZ = 150, 11_000  # where a beat has energy that survives codecs: bass to hi-hats
BAND_BINS = 16  # bins per band of the masking threshold (about 345 Hz)
MASK_OFFSET_DB = 12.0  # the masking threshold: this far under the masking power of each frame-band
MASK_SAFETY_DB = 3.0  # the mark's expected level under the threshold (random phases make it vary)
SPREAD_DB = 25.0  # a band masks its neighbours this much less per band away (spreading)
QUIET_DB = 110.0  # the threshold in quiet: this far under a full-scale sine, never audible
EDGE_BINS = 2  # a band's outer bins take the lower amplitude of the two bands they border
TRACK_SMR_DB = 36.0  # signal-to-mark ratio over the whole track
BLOCK = 256  # samples per block of the time envelope (5.8 ms): the mark never precedes a hit
BLOCK_SMR_DB = 26.0  # the least signal-to-mark ratio in any block (so in any second, too)
BLOCK_FRAMES = 64  # patterns are drawn per block of frames, so an excerpt draws only its own
COARSE_FACTOR = 16  # alignment first at 44.1 kHz / 16
DECODE_TIMEOUT_SECONDS = 300

_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)).astype(np.float32)
_BINS = np.arange(round(LOW_HZ * FRAME / RATE), round(HIGH_HZ * FRAME / RATE))
_BINS = _BINS[: len(_BINS) // BAND_BINS * BAND_BINS]
_BAND_SLICE = slice(int(_BINS[0]), int(_BINS[-1]) + 1)
BANDS = len(_BINS) // BAND_BINS
# What a frame's analysis sees of a mark synthesised at spectral amplitude A in it and its two
# neighbours: A^2 times sum(w^4) + 2 sum(w^2 w'^2), over FRAME (Hann analysis and synthesis).
_SEEN = float(np.sum(_WINDOW.astype(np.float64) ** 4) + 2 * np.sum((_WINDOW[:HOP].astype(np.float64)
                                                                     * _WINDOW[HOP:]) ** 2)) / FRAME
# The mark's energy per sample for a spectral amplitude A in one bin of one frame: 2 A^2 sum(w^2) / FRAME^2.
_ENERGY = float(2 * np.sum(_WINDOW.astype(np.float64) ** 2)) / FRAME ** 2
_PHASES = np.array([1, 1j, -1, -1j], dtype=np.complex64)
# A full-scale sine's power in its band (its bin holds sum(w)/2 in amplitude), QUIET_DB lower.
_QUIET = np.float32((float(np.sum(_WINDOW)) / 2) ** 2 / BAND_BINS * 10 ** (-QUIET_DB / 10))


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
    return np.fft.rfft(windows * _WINDOW, axis=1)[:, _BAND_SLICE]


def frame_count(samples: int) -> int:
    return max(1, math.ceil(samples / HOP) + 1)


def pattern(seed: bytes, first: int, count: int) -> np.ndarray:
    """The key's unit phases (1, j, -1, -j) for frames first..first+count-1 and the band bins."""
    return _PHASES[quadrants(seed, first, count)]


def quadrants(seed: bytes, first: int, count: int) -> np.ndarray:
    """The key's phases as quarter turns (0 to 3), drawn per block of frames."""
    blocks = range(first // BLOCK_FRAMES, (first + count - 1) // BLOCK_FRAMES + 1)
    turns = np.empty((len(blocks) * BLOCK_FRAMES, len(_BINS)), dtype=np.uint8)
    for index, block in enumerate(blocks):
        digest = hashlib.sha256(seed + block.to_bytes(8, "big")).digest()
        rng = np.random.default_rng(int.from_bytes(digest, "big"))
        turns[index * BLOCK_FRAMES:(index + 1) * BLOCK_FRAMES] = rng.integers(
            0, 4, size=(BLOCK_FRAMES, len(_BINS)), dtype=np.uint8)
    return turns[first % BLOCK_FRAMES: first % BLOCK_FRAMES + count]


def band_power(spectrum: np.ndarray) -> np.ndarray:
    """Mean power of each band in each frame, shape (frames, BANDS)."""
    power = spectrum.real ** 2 + spectrum.imag ** 2
    return power.reshape(len(power), BANDS, BAND_BINS).mean(axis=2)


def masking_threshold(spectrum: np.ndarray) -> np.ndarray:
    """Per frame and band, the power a mark may have in the analysis of that frame:
    MASK_OFFSET_DB under the masking power there, which is the band's own power, or a
    neighbouring band's less SPREAD_DB per band away, or the threshold in quiet."""
    power = band_power(spectrum)
    spread = power.copy()
    step = np.float32(10 ** (-SPREAD_DB / 10))
    for band in range(1, BANDS):
        np.maximum(spread[:, band], spread[:, band - 1] * step, out=spread[:, band])
    for band in range(BANDS - 2, -1, -1):
        np.maximum(spread[:, band], spread[:, band + 1] * step, out=spread[:, band])
    np.maximum(spread, _QUIET, out=spread)
    return spread * np.float32(10 ** (-MASK_OFFSET_DB / 10))


def bin_amplitudes(amplitudes: np.ndarray) -> np.ndarray:
    """Band amplitudes spread over their bins; the bins near a band's edge take the lower of
    the two bands (a window's leakage would otherwise carry a loud band's mark over a quiet one)."""
    bins = np.repeat(amplitudes, BAND_BINS, axis=1)
    edged = bins.copy()
    for distance in range(1, EDGE_BINS + 1):
        np.minimum(edged[:, distance:], bins[:, :-distance], out=edged[:, distance:])
        np.minimum(edged[:, :-distance], bins[:, distance:], out=edged[:, :-distance])
    return edged


def _least_of_neighbours(values: np.ndarray) -> np.ndarray:
    """Each row's values, lowered to those of the rows before and after it."""
    least = values.copy()
    np.minimum(least[1:], values[:-1], out=least[1:])
    np.minimum(least[:-1], values[1:], out=least[:-1])
    return least


def mark_amplitudes(mono: np.ndarray) -> np.ndarray:
    """The mark's spectral amplitude per frame and band for a master (its mono mix): a beat's
    property, the same for all its licenses.

    Each frame's mark also reaches into its two neighbours, so a frame-band takes the least
    threshold of the three (a frame before a drum hit never borrows the hit's level). The
    track's budget (TRACK_SMR_DB) is then spread like water poured from above: every frame-band
    gets its threshold or a common ceiling, whichever is lower, so the quiet bands, where
    codecs and vocals leave the most room, are filled first."""
    count = frame_count(len(mono))
    allowed = _least_of_neighbours(masking_threshold(_frames(mono, 0, count)))
    allowed *= np.float32(10 ** (-MASK_SAFETY_DB / 10) / _SEEN)
    budget = float(np.dot(mono.astype(np.float64), mono)) * 10 ** (-TRACK_SMR_DB / 10) / (_ENERGY * BAND_BINS)
    ceiling = _water_level(allowed.ravel(), budget)
    return np.sqrt(np.minimum(allowed, np.float32(ceiling)))


def _water_level(values: np.ndarray, budget: float) -> float:
    """The level L at which sum(min(values, L)) equals the budget (infinite if it never does)."""
    ordered = np.sort(values).astype(np.float64)
    filled = np.cumsum(ordered)
    # The total if the level stood at each value in turn.
    totals = filled + ordered * (len(ordered) - 1 - np.arange(len(ordered)))
    k = int(np.searchsorted(totals, budget))
    if k >= len(ordered):
        return math.inf
    below = filled[k - 1] if k else 0.0
    return (budget - below) / (len(ordered) - k)


@dataclasses.dataclass(frozen=True)
class Shape:
    """What marking needs of a master, the same for all its licenses: computed once per beat,
    so each license adds only its pattern and one inverse FFT."""

    samples: int
    amplitudes: np.ndarray  # (frames, BANDS): the mark's spectral amplitude
    block_allowance: np.ndarray  # the mark's greatest power in each block of BLOCK samples
    mono: bool  # the master's channels are identical


def shape_of(master: np.ndarray) -> Shape:
    mono = mono_mix(master)
    identical = master.shape[1] == 1 or bool(np.array_equal(master[:, 0], master[:, 1]))
    return Shape(len(mono), mark_amplitudes(mono), _block_power(mono) * 10 ** (-BLOCK_SMR_DB / 10), identical)


def mark_signal(shape: Shape, seed: bytes) -> np.ndarray:
    """The mono mark of a seed for a master of this shape: added to every channel."""
    count = len(shape.amplitudes)
    shaped = np.zeros((count, FRAME // 2 + 1), dtype=np.complex64)
    shaped[:, _BAND_SLICE] = bin_amplitudes(shape.amplitudes) * pattern(seed, 0, count)
    mark = _overlap_add(np.fft.irfft(shaped, n=FRAME, axis=1), shape.samples)
    mark *= _time_envelope(shape.block_allowance, mark)
    return mark


def _block_power(signal: np.ndarray) -> np.ndarray:
    usable = len(signal) // BLOCK * BLOCK
    blocks = signal[:usable].reshape(-1, BLOCK)
    power = np.einsum("ij,ij->i", blocks, blocks) / BLOCK
    if usable < len(signal):
        tail = signal[usable:]
        power = np.append(power, np.dot(tail, tail) / len(tail))
    return power


def _time_envelope(allowed: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """A gain per sample that keeps the mark BLOCK_SMR_DB under the master in every block of
    BLOCK samples: the time-domain side of the masking (no mark ahead of a drum hit, none in
    a fade). Each block's gain is the least of its neighbours', interpolated between block
    centres, so no sample gets more than its own block allows."""
    present = _block_power(mark)
    gain = _least_of_neighbours(np.sqrt(np.minimum(1.0, allowed / np.maximum(present, 1e-30))))
    # Linear from each block centre to the next (half a block of the first value before).
    points = np.concatenate([gain[:1], gain, gain[-1:]]).astype(np.float32)
    ramp = (np.arange(BLOCK, dtype=np.float32) + 0.5) / BLOCK
    halves = points[:-1, None] + (points[1:] - points[:-1])[:, None] * ramp
    return halves.ravel()[BLOCK // 2: BLOCK // 2 + len(mark)]


def _overlap_add(frames: np.ndarray, length: int) -> np.ndarray:
    """Windowed frames added at every hop: each half-frame lands on its own HOP-long row."""
    count = len(frames)
    out = np.zeros((count + 1) * HOP, dtype=np.float32)
    frames *= _WINDOW
    out[: count * HOP].reshape(count, HOP)[:] += frames[:, :HOP]
    out[HOP:].reshape(count, HOP)[:] += frames[:, HOP:]
    return out[:length]


def embed(master: np.ndarray, seed: bytes, shape: Shape | None = None) -> np.ndarray:
    return master + mark_signal(shape or shape_of(master), seed)[:, None]


def mono_mix(audio: np.ndarray) -> np.ndarray:
    """The mean of the channels, as float32 (a product with weights: far faster than mean(axis=1))."""
    return audio @ np.full(audio.shape[1], 1 / audio.shape[1], dtype=np.float32)


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
           alignments: list[Alignment] | None = None, amplitudes: np.ndarray | None = None) -> Detection:
    """Score each candidate seed against a suspect (mono) of this master (mono): at each
    place the suspect may start, keeping each seed's best. `amplitudes` (mark_amplitudes of
    the master) may be passed when one master is traced often."""
    alignments = alignments or align(suspect, master)
    amplitudes = mark_amplitudes(master) if amplitudes is None else amplitudes
    # Each key's phases over the whole master, drawn once for all the places tried.
    turns = {key: quadrants(seed, 0, len(amplitudes)) for key, seed in seeds.items()}
    best: Detection | None = None
    for alignment in alignments:
        found = _detect_at(suspect, master, amplitudes, turns, alignment)
        if best is None:
            best = found
        else:
            scores = {key: max(best.scores[key], found.scores[key]) for key in seeds}
            top = max(found.scores.values(), default=0) > max(best.scores.values(), default=0)
            best = Detection(found.alignment if top else best.alignment, scores, max(best.frames, found.frames),
                             best.places + 1)
    return best


def _detect_at(suspect: np.ndarray, master: np.ndarray, amplitudes: np.ndarray, turns: dict[str, np.ndarray],
               alignment: Alignment) -> Detection:
    offset = alignment.offset
    # Frames of the master's grid wholly inside the suspect.
    first = max(0, math.ceil(offset / HOP))
    last = (offset + len(suspect) - FRAME) // HOP
    count = last - first + 1
    count = min(count, len(amplitudes) - first)
    if count < 8:
        return Detection(alignment, {key: 0.0 for key in turns}, 0)
    on_grid = np.zeros(len(master) + FRAME, dtype=np.float32)
    lo, hi = max(offset, 0), min(offset + len(suspect), len(on_grid))
    on_grid[lo:hi] = suspect[lo - offset: hi - offset]
    observed, reference = _frames(on_grid, first, count), _frames(master, first, count)
    residual, rotation, weight = _residual(observed, reference)
    # The matched filter: each bin weighted by the mark's expected amplitude there.
    weight = weight * bin_amplitudes(amplitudes[first:first + count])
    # Re(R conj(rotation P)) w, for a phase P of q quarter turns: Re(Q), Im(Q), -Re(Q) or -Im(Q)
    # with Q = R conj(rotation) w; its spread does not depend on the key.
    turned = residual * np.conj(rotation) * weight
    real, imaginary = np.ascontiguousarray(turned.real), np.ascontiguousarray(turned.imag)
    spread = math.sqrt(float(np.sum((weight ** 2) * np.abs(residual) ** 2)) / 2)
    scores = {}
    for key, quarter_turns in turns.items():
        q = quarter_turns[first:first + count]
        terms = np.where(q & 1, imaginary, real)
        total = float(terms.sum(dtype=np.float64)) - 2 * float(terms[(q & 2) > 0].sum(dtype=np.float64))
        scores[key] = total / spread if spread > 0 else 0.0
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
