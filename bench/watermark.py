"""Per-license marks in delivered MP3s: robustness, false attributions, inaudibility and cost.

Corpus (at least 20 real tracks):
  * the demo beats, rendered by the demo's own synthesizer (60 s each);
  * music from Debian packages (their .ogg tracks over 300 kB under
    /usr/share/games/{etr/music,neverball/bgm,frozen-bubble/snd}: 18 tracks);
  * the vocal sung over the leaks: espeak-ng speech, pitched up, from Debian's espeak-ng.
Run as root, the bench installs the missing packages itself (apt-get install -y
extremetuxracer-data neverball-data frozen-bubble-data espeak-ng); otherwise a missing part is
skipped with a printed reason. Tracks are cut to their first --seconds.

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
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace.audio import watermark  # noqa: E402
from marketplace.audio import deliver  # noqa: E402
from marketplace.audio.deliver import encode_mp3  # noqa: E402

DEBIAN_MUSIC = {
    "extremetuxracer-data": Path("/usr/share/games/etr/music"),
    "neverball-data": Path("/usr/share/games/neverball/bgm"),
    "frozen-bubble-data": Path("/usr/share/games/frozen-bubble/snd"),
}
DEBIAN_PACKAGES = [*DEBIAN_MUSIC, "espeak-ng"]
DECOYS = 8
NULL_SETS = 3
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


def install_missing_packages() -> None:
    """As the Makefile does for ffmpeg: as root, apt-get install what the corpus needs."""
    missing = [name for name in DEBIAN_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True).stdout != "install ok installed"]
    if not missing or shutil.which("apt-get") is None:
        return
    if os.geteuid() != 0:
        print(f"missing Debian packages: {' '.join(missing)} (sudo apt-get install -y {' '.join(missing)})")
        return
    print(f"installing {' '.join(missing)}", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=False,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


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


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the encoders): on a shared machine
    the fairest cost, as it does not count time spent waiting for a core."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_build(master: Path, out: Path, seed: bytes | None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) to build the delivered MP3."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    encode_mp3(master, out, mark_seed=seed)
    return cpu_seconds() - cpu, time.perf_counter() - wall


def build_costs(master: Path, seeds: dict[str, bytes], folder: Path) -> tuple[dict, dict[str, Path], Path]:
    """Unmarked and marked builds, interleaved, each kind's best kept: the marked builds of a
    beat's later licenses reuse its shape; the first (beat analysed) is timed apart."""
    plain, marked = folder / "plain.mp3", {key: folder / f"{key}.mp3" for key in seeds}
    deliver.forget_mark_shapes()
    times = {"plain": [timed_build(master, plain, None)]}
    times["first"] = [timed_build(master, marked[next(iter(seeds))], next(iter(seeds.values())))]
    times["license"] = []
    for key, seed in seeds.items():
        times["plain"].append(timed_build(master, plain, None))
        times["license"].append(timed_build(master, marked[key], seed))
    best = {kind: (min(t[0] for t in runs), min(t[1] for t in runs)) for kind, runs in times.items()}
    costs = {"cost_cpu": best["license"][0] / best["plain"][0] - 1, "cost_wall": best["license"][1] / best["plain"][1] - 1,
             "cost_first_cpu": best["first"][0] / best["plain"][0] - 1}
    return {key: round(value, 3) for key, value in costs.items()}, marked, plain


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


def masking_compliance(master: np.ndarray, marked: np.ndarray) -> dict:
    """How much of the mark is over the masking threshold: in the frame-bands of the STFT (the
    threshold computed per frame from the master) and in the blocks of the time envelope."""
    mono, mark = watermark.mono_mix(master), watermark.mono_mix(marked - master)
    count = watermark.frame_count(len(mono))
    threshold = watermark.masking_threshold(watermark._frames(mono, 0, count)).astype(np.float64)
    present = watermark.band_power(watermark._frames(mark, 0, count)).astype(np.float64)
    over = present > threshold
    allowed = watermark._block_power(mono) * 10 ** (-watermark.BLOCK_SMR_DB / 10)
    blocks_over = watermark._block_power(mark) > allowed * 1.001
    ratio = present[present > 0] / np.maximum(threshold[present > 0], 1e-30)
    return {"frame_bands_over_pct": round(100 * float(over.mean()), 3),
            "energy_over_pct": round(100 * float(np.sum(np.maximum(present - threshold, 0)) / max(present.sum(), 1e-30)), 4),
            "worst_frame_band_db": round(float(10 * np.log10(ratio.max())), 1) if len(ratio) else None,
            "blocks_over_pct": round(100 * float(blocks_over.mean()), 3)}


def run_track(name: str, master_path: Path, folder: Path, vocal: np.ndarray | None, rng: np.random.Generator,
              attacks: list[str]) -> dict:
    seeds = {f"buyer-{i}": rng.bytes(32) for i in range(2)}
    decoys = {f"decoy-{i}": rng.bytes(32) for i in range(DECOYS)}
    null_sets = [{f"null-{s}-{i}": rng.bytes(32) for i in range(NULL_SET_SIZE)} for s in range(NULL_SETS)]
    master = decoded(master_path)
    marked = watermark.embed(master, seeds["buyer-0"])
    whole, worst = watermark.signal_to_mark(master, marked)
    costs, marked_mp3, plain_mp3 = build_costs(master_path, seeds, folder)
    mono_master = watermark.mono_mix(master)
    amplitudes = watermark.mark_amplitudes(mono_master)
    results = {"track": name, "smr_db": round(whole, 1), "worst_second_db": round(worst, 1),
               **masking_compliance(master, marked), **costs, "attacks": {}, "false": 0, "null_trials": 0, "z": {}}
    everyone = {**seeds, **decoys, **{k: v for null_set in null_sets for k, v in null_set.items()}}
    for attack_name in attacks:
        if attack_name in ("vocal", "chain") and vocal is None:
            continue
        right, zs = 0, []
        # One detection per file scores every seed; each decision then looks at one candidate set.
        for key in seeds:
            suspect = watermark.mono_mix(decoded(attack(attack_name, marked_mp3[key], folder, vocal, rng)))
            detection = watermark.detect(suspect, mono_master, everyone, amplitudes=amplitudes)
            right += watermark.decide(detection, set(seeds) | set(decoys)) == key
            zs.append(detection.scores[key])
            for null_set in null_sets:  # the same file, none of its candidates its license
                results["null_trials"] += 1
                others = (set(seeds) - {key}) | set(null_set)
                results["false"] += watermark.decide(detection, others) is not None
        unmarked = watermark.mono_mix(decoded(attack(attack_name, plain_mp3, folder, vocal, rng)))
        detection = watermark.detect(unmarked, mono_master, everyone, amplitudes=amplitudes)
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
    install_missing_packages()
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
          f"over threshold: {row['frame_bands_over_pct']}% frame-bands ({row['energy_over_pct']}% of the energy, "
          f"worst {row['worst_frame_band_db']} dB), {row['blocks_over_pct']}% blocks; "
          f"cost {100 * row['cost_cpu']:+.1f}% CPU ({100 * row['cost_wall']:+.1f}% wall, first license "
          f"{100 * row['cost_first_cpu']:+.1f}% CPU)  right: {cells}  min z: {row['z']}  ({seconds:.0f} s)", flush=True)


def summary(rows: list[dict], attacks: list[str]) -> None:
    names = {"mp3_128": "MP3 128", "aac_128": "AAC 128", "resample_48k": "48 kHz", "gain_-6": "-6 dB",
             "gain_+6": "+6 dB", "excerpt_30s": "30 s", "loudnorm": "loudnorm", "vocal": "vocal", "chain": "chain"}
    print("\n| track | SMR dB | worst 1 s dB | frame-bands over threshold | blocks over | cost CPU (wall; first) | "
          + " | ".join(names.get(a, a) for a in attacks) + " |")
    print("| --- " * (5 + len(attacks)) + "|")
    for row in rows:
        cells = " | ".join("{}/{}".format(*row["attacks"][a]) if a in row["attacks"] else "-" for a in attacks)
        print(f"| {row['track']} | {row['smr_db']:.1f} | {row['worst_second_db']:.1f} | "
              f"{row['frame_bands_over_pct']}% | {row['blocks_over_pct']}% | {100 * row['cost_cpu']:+.0f}% "
              f"({100 * row['cost_wall']:+.0f}%; {100 * row['cost_first_cpu']:+.0f}%) | {cells} |")
    print("\n| attack | right license named | rate |\n| --- | --- | --- |")
    for name in attacks:
        right = sum(row["attacks"].get(name, (0, 0))[0] for row in rows)
        total = sum(row["attacks"].get(name, (0, 0))[1] for row in rows)
        if total:
            print(f"| {name} | {right}/{total} | {100 * right / total:.1f}% |")
    trials, false = sum(r["null_trials"] for r in rows), sum(r["false"] for r in rows)
    print(f"\nfalse attributions: {false} in {trials} trials (unmarked files and files of other licenses)")
    print(f"SMR over the track: min {min(r['smr_db'] for r in rows):.1f} dB; worst one-second window: "
          f"min {min(r['worst_second_db'] for r in rows):.1f} dB; frame-bands over the masking threshold: "
          f"max {max(r['frame_bands_over_pct'] for r in rows)}%; blocks over: max {max(r['blocks_over_pct'] for r in rows)}%")
    for kind in ("cost_cpu", "cost_wall", "cost_first_cpu"):
        costs = sorted(r[kind] for r in rows)
        print(f"{kind}: median {100 * costs[len(costs) // 2]:+.1f}%, max {100 * costs[-1]:+.1f}%")


if __name__ == "__main__":
    main()
