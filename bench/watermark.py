"""Per-license marks in delivered MP3s: robustness, false attributions, inaudibility and cost.

Corpus (at least 20 real tracks):
  * the demo beats, rendered by the demo's own synthesizer (60 s each);
  * music from Debian packages, installed into the system for this bench only:
        apt-get install extremetuxracer-data neverball-data frozen-bubble-data
    (their .ogg tracks under /usr/share/games/{etr/music,neverball/bgm,frozen-bubble/snd});
  * the vocal sung over the leaks: espeak-ng speech, pitched up, from Debian's espeak-ng:
        apt-get install espeak-ng
A missing part is skipped with a printed reason. Tracks are cut to their first --seconds.

For each track, two leases of the same beat are delivered (MP3 320 with their marks), then
each delivered file goes through every attack below. The informed detector (which has the
master) scores the two buyers plus DECOYS other licenses of the beat and must name the right
one. The false-attribution trials: each attacked file is also decided against NULL_SETS
candidate sets without its license, and the unmarked build (an exclusive's) is attacked and
decided against the same sets; any license named there is a false attribution.

Attacks: MP3 128 kbps, AAC 128 kbps, resampling to 48 kHz, gain -6 dB and +6 dB (16-bit WAV,
clipping as a real file would), a 30-second excerpt anywhere, loudness normalisation
(EBU R128 to -14 LUFS), a vocal mixed on top at equal loudness (same RMS), and the leak chain:
excerpt 30 s, normalised, sung over, resampled to 48 kHz, AAC 128 kbps.

Per track it reports the signal-to-mark ratio over the track and in the worst one-second
window, the mark's highest level against the masking threshold's band (dB under the master's
band power in any frame and band), and the cost of marking: the marked MP3 build's time
against the unmarked build's, in the same run.

    .venv/bin/python bench/watermark.py [--quick] [--seconds 90] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace.audio import watermark  # noqa: E402
from marketplace.audio.deliver import encode_mp3  # noqa: E402

DEBIAN_MUSIC = {
    "extremetuxracer-data": Path("/usr/share/games/etr/music"),
    "neverball-data": Path("/usr/share/games/neverball/bgm"),
    "frozen-bubble-data": Path("/usr/share/games/frozen-bubble/snd"),
}
DECOYS = 8
NULL_SETS = 6
NULL_SET_SIZE = 10
ATTACKS = ["mp3_128", "aac_128", "resample_48k", "gain_-6", "gain_+6", "excerpt_30s", "loudnorm", "vocal",
           "chain"]


def ffmpeg(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-threads", "1", *args], input=data,
                          capture_output=True, check=True).stdout


def write_wav(path: Path, audio: np.ndarray, rate: int = watermark.RATE) -> Path:
    ffmpeg("-f", "f32le", "-ar", str(rate), "-ac", str(audio.shape[1]), "-i", "pipe:0", "-c:a", "pcm_s16le",
           str(path), data=np.clip(audio, -1, 1).astype("<f4").tobytes())
    return path


def corpus(folder: Path, seconds: float, limit: int | None) -> list[tuple[str, Path]]:
    tracks: list[tuple[str, Path]] = []
    try:
        from marketplace.audio import synth
        from marketplace.demo.catalogue import DEMO_BEATS
        for beat in DEMO_BEATS:
            parts = synth.compose(beat.key, beat.bpm, beat.genre, seconds=60)
            tracks.append((f"demo: {beat.title}", synth.write_wav(folder / f"demo-{len(tracks)}.wav", parts.mix())))
    except ImportError as error:
        print(f"skipping the demo beats: {error}")
    for package, where in DEBIAN_MUSIC.items():
        found = sorted(where.glob("*.ogg")) if where.is_dir() else []
        found = [path for path in found if path.stat().st_size > 300_000]
        if not found:
            print(f"skipping {package}: no music in {where} (apt-get install {package})")
        tracks += [(f"{package}: {path.stem}", path) for path in found]
    if limit:  # as many demo beats as Debian tracks
        demo = [track for track in tracks if track[0].startswith("demo")]
        other = [track for track in tracks if not track[0].startswith("demo")]
        tracks = demo[: limit // 2] + other[: limit - min(len(demo), limit // 2)]
    cut = []
    for index, (name, path) in enumerate(tracks):
        master = folder / f"master-{index}.wav"
        ffmpeg("-i", str(path), "-t", str(seconds), "-ar", str(watermark.RATE), "-ac", "2", "-c:a", "pcm_s16le",
               str(master))
        cut.append((name, master))
    return cut


def vocal_track(folder: Path) -> np.ndarray | None:
    if shutil.which("espeak-ng") is None:
        print("skipping the sung-over attacks: espeak-ng is not installed (apt-get install espeak-ng)")
        return None
    lyrics = ("oh baby tonight we ride, under the city lights we shine, la la la, never stop the music, "
              "hold on, hold on, we are running through the night ") * 4
    raw = folder / "vocal-raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f3", "-s", "120", "-p", "75", "-w", str(raw), lyrics], check=True,
                   capture_output=True)
    return watermark.decode(raw)


def timed_build(master: Path, out: Path, seed: bytes | None) -> float:
    started = time.perf_counter()
    encode_mp3(master, out, mark_seed=seed)
    return time.perf_counter() - started


def decoded(path: Path) -> np.ndarray:
    return watermark.decode(path)


def attack(name: str, delivered: Path, folder: Path, vocal: np.ndarray | None, rng: np.random.Generator) -> Path:
    out = folder / f"attacked-{name}"
    source = str(delivered)
    if name == "mp3_128":
        ffmpeg("-i", source, "-b:a", "128k", str(out.with_suffix(".mp3")))
        return out.with_suffix(".mp3")
    if name == "aac_128":
        ffmpeg("-i", source, "-c:a", "aac", "-b:a", "128k", str(out.with_suffix(".m4a")))
        return out.with_suffix(".m4a")
    if name == "resample_48k":
        ffmpeg("-i", source, "-ar", "48000", "-c:a", "pcm_s16le", str(out.with_suffix(".wav")))
        return out.with_suffix(".wav")
    if name.startswith("gain_"):
        ffmpeg("-i", source, "-af", f"volume={name[5:]}dB", "-c:a", "pcm_s16le", str(out.with_suffix(".wav")))
        return out.with_suffix(".wav")
    audio = decoded(delivered)
    if name in ("excerpt_30s", "chain"):
        start = int(rng.integers(0, max(len(audio) - 30 * watermark.RATE, 0) + 1))
        audio = audio[start:start + 30 * watermark.RATE]
    if name in ("loudnorm", "chain"):
        plain = write_wav(folder / "before-loudnorm.wav", audio)
        audio = np.frombuffer(ffmpeg("-i", str(plain), "-af", "loudnorm=I=-14:TP=-1:LRA=11", "-ar",
                                     str(watermark.RATE), "-ac", "2", "-f", "f32le", "pipe:1"),
                              dtype="<f4").reshape(-1, 2)
    if name in ("vocal", "chain"):
        audio = sung_over(audio, vocal)
    if name == "chain":
        ffmpeg("-f", "f32le", "-ar", str(watermark.RATE), "-ac", "2", "-i", "pipe:0", "-ar", "48000", "-c:a", "aac",
               "-b:a", "128k", str(out.with_suffix(".m4a")), data=audio.astype("<f4").tobytes())
        return out.with_suffix(".m4a")
    return write_wav(out.with_suffix(".wav"), audio)


def sung_over(audio: np.ndarray, vocal: np.ndarray) -> np.ndarray:
    """The vocal looped under the whole piece, at the music's RMS."""
    repeats = math.ceil(len(audio) / len(vocal))
    voice = np.tile(vocal, (repeats, 1))[: len(audio)]
    voice = voice * math.sqrt(float(np.mean(audio ** 2)) / max(float(np.mean(voice ** 2)), 1e-12))
    return audio + voice


def mask_headroom(master: np.ndarray, marked: np.ndarray) -> float:
    """The mark's highest band level against the master's (dB; the threshold is -MASK_OFFSET_DB)."""
    mono, mark = master.mean(axis=1), (marked - master).mean(axis=1)
    count = watermark.frame_count(len(mono))
    bands = watermark.BAND_BINS
    master_power = (np.abs(watermark._frames(mono, 0, count)) ** 2).reshape(count, -1, bands).mean(axis=2)
    mark_power = (np.abs(watermark._frames(mark, 0, count)) ** 2).reshape(count, -1, bands).mean(axis=2)
    loud = master_power > master_power.max() * 1e-6  # bands with music in them
    return float(10 * np.log10(np.percentile(mark_power[loud] / master_power[loud], 99)))


def run_track(name: str, master_path: Path, folder: Path, vocal: np.ndarray | None, rng: np.random.Generator,
              attacks: list[str]) -> dict:
    seeds = {f"buyer-{i}": rng.bytes(32) for i in range(2)}
    decoys = {f"decoy-{i}": rng.bytes(32) for i in range(DECOYS)}
    null_sets = [{f"null-{s}-{i}": rng.bytes(32) for i in range(NULL_SET_SIZE)} for s in range(NULL_SETS)]
    master = decoded(master_path)
    marked = watermark.embed(master, seeds["buyer-0"])
    whole, worst = watermark.signal_to_mark(master, marked)
    headroom = mask_headroom(master, marked)
    plain_mp3, marked_mp3 = folder / "plain.mp3", {key: folder / f"{key}.mp3" for key in seeds}
    plain_time = timed_build(master_path, plain_mp3, None)
    marked_times = [timed_build(master_path, marked_mp3[key], seed) for key, seed in seeds.items()]
    plain_time = min(plain_time, timed_build(master_path, plain_mp3, None))
    mono_master = master.mean(axis=1)
    results = {"track": name, "smr_db": round(whole, 1), "worst_second_db": round(worst, 1),
               "mask_db": round(headroom, 1), "cost": round(min(marked_times) / plain_time - 1, 3),
               "attacks": {}, "false": 0, "null_trials": 0, "z": {}}
    everyone = {**seeds, **decoys, **{k: v for null_set in null_sets for k, v in null_set.items()}}
    for attack_name in attacks:
        if attack_name in ("vocal", "chain") and vocal is None:
            continue
        right, zs = 0, []
        # One detection per file scores every seed; each decision then looks at one candidate set.
        for key in seeds:
            suspect = decoded(attack(attack_name, marked_mp3[key], folder, vocal, rng)).mean(axis=1)
            detection = watermark.detect(suspect, mono_master, everyone)
            right += watermark.decide(detection, set(seeds) | set(decoys)) == key
            zs.append(detection.scores[key])
            for null_set in null_sets:  # the same file, none of its candidates its license
                results["null_trials"] += 1
                others = (set(seeds) - {key}) | set(null_set)
                results["false"] += watermark.decide(detection, others) is not None
        unmarked = decoded(attack(attack_name, plain_mp3, folder, vocal, rng)).mean(axis=1)
        detection = watermark.detect(unmarked, mono_master, everyone)
        for candidates in [set(seeds) | set(decoys), *map(set, null_sets)]:
            results["null_trials"] += 1
            results["false"] += watermark.decide(detection, candidates) is not None
        results["attacks"][attack_name] = (right, len(seeds))
        results["z"][attack_name] = round(min(zs), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 tracks of 45 s, the leak chain and AAC only")
    parser.add_argument("--seconds", type=float, default=90, help="each track cut to this length")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    limit, seconds, attacks = (None, args.seconds, ATTACKS)
    if args.quick:
        limit, seconds, attacks = 6, 45, ["aac_128", "excerpt_30s", "chain"]
    rng = np.random.default_rng(22)
    rows = []
    with tempfile.TemporaryDirectory(prefix="watermark-bench-") as name:
        folder = Path(name)
        tracks = corpus(folder, seconds, limit)
        vocal = vocal_track(folder)
        print(f"{len(tracks)} tracks, {seconds:.0f} s each; attacks: {', '.join(attacks)}\n")
        for track, path in tracks:
            started = time.perf_counter()
            rows.append(run_track(track, path, folder, vocal, rng, attacks))
            print_row(rows[-1], attacks, time.perf_counter() - started)
    summary(rows, attacks)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def print_row(row: dict, attacks: list[str], seconds: float) -> None:
    cells = " ".join(f"{row['attacks'][a][0]}/{row['attacks'][a][1]}" if a in row["attacks"] else "-"
                     for a in attacks)
    print(f"{row['track'][:38]:38} SMR {row['smr_db']:5.1f} dB, worst 1 s {row['worst_second_db']:5.1f} dB, "
          f"mask {row['mask_db']:6.1f} dB, cost {100 * row['cost']:+5.1f}%  right: {cells}  "
          f"min z: {row['z']}  ({seconds:.0f} s)", flush=True)


def summary(rows: list[dict], attacks: list[str]) -> None:
    print("\n| attack | right license named | rate |\n| --- | --- | --- |")
    for name in attacks:
        right = sum(row["attacks"].get(name, (0, 0))[0] for row in rows)
        total = sum(row["attacks"].get(name, (0, 0))[1] for row in rows)
        if total:
            print(f"| {name} | {right}/{total} | {100 * right / total:.1f}% |")
    trials, false = sum(r["null_trials"] for r in rows), sum(r["false"] for r in rows)
    print(f"\nfalse attributions: {false} in {trials} trials (unmarked files and files of other licenses)")
    print(f"SMR over the track: min {min(r['smr_db'] for r in rows):.1f} dB; worst one-second window: "
          f"min {min(r['worst_second_db'] for r in rows):.1f} dB; mark vs master band power (99th pct): "
          f"max {max(r['mask_db'] for r in rows):.1f} dB")
    costs = sorted(r["cost"] for r in rows)
    print(f"marking cost on the MP3 build: median {100 * costs[len(costs) // 2]:+.1f}%, "
          f"max {100 * costs[-1]:+.1f}%")


if __name__ == "__main__":
    main()
