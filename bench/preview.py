"""Watermarked previews: the project's pipeline against one bare ffmpeg command doing the same work.

Generates stereo 44.1 kHz masters (two sines and pink noise) as WAV and as MP3 192k, at 30 s,
3 min and 10 min by default. For each, times in the same run:

  ffmpeg    the baseline: one ffmpeg command that decodes the master, mixes in the tag looped
            every 30 s and encodes MP3 128k (the tag period it loops is prepared once, untimed);
  pipeline  marketplace.audio.preview.render_preview, which also prepares the tag period,
            mixes in one ffmpeg and encodes in a second (one core each), and takes the
            waveform peaks from the PCM it relays between them;
  pydub     for comparison, the straightforward version: decode the whole master with pydub,
            overlay the tag every 30 s, export MP3 128k. It holds the whole track in memory
            (about 500 MB at 10 min), so it only runs up to 3 min unless --pydub-10min.

Prints the median wall time over --repeat runs, peak RSS and each method's ratio to the
baseline on the same input, then whether the targets are met: ratio at most 1.0 at 3 and
10 min, pipeline peak RSS under 80 MB at every length and not growing with the track.

    .venv/bin/python bench/preview.py [--lengths 30,180,600] [--formats wav,mp3] [--repeat 3] [--json FILE]

How it measures. Every run happens in a fresh Python process (this script with --run-one)
that times only the work, not its own start-up, and reports its own peak RSS. The ffmpeg
processes' peaks cannot be read from that process's RUSAGE_CHILDREN: a child's peak counts
the memory of the process that forked it, up to its exec, so ffmpeg started by a 60 MB Python
would look like 60 MB whatever it used. So before the timed runs, one extra run per method
(which also warms the caches) puts a small relay first on PATH under the name ffmpeg: it
starts the real ffmpeg, waits for it and records that child's peak RSS. The relay adds a few
milliseconds per ffmpeg, which is why the timed runs go without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.audio import DEFAULT_TAG_PATH  # noqa: E402
from marketplace.audio.preview import (  # noqa: E402
    PREVIEW_BITRATE,
    SAMPLE_RATE,
    TagPlacement,
    render_preview,
    tag_period,
)

PLACEMENT = TagPlacement(interval_seconds=30, gain_db=0, first_at_seconds=0)
MASTER_MP3_BITRATE = "192k"
METHODS = ("ffmpeg", "pipeline", "pydub")
PYDUB_DEFAULT_MAX_SECONDS = 180
RATIO_TARGET = 1.0
RATIO_TARGET_MIN_SECONDS = 180  # short tracks pay fixed costs (tag preparation) the baseline skips
RSS_TARGET_MB = 80
RSS_FLAT_TOLERANCE_MB = 10  # how far the peak may move between the shortest and the longest track

# The relay named ffmpeg. Python with -S -I (no site, isolated) so it stays small, as its own
# pages count in the peak of the ffmpeg it starts, like any parent's, and quick to start.
RELAY_SOURCE = """\
import os, signal, sys
pid = os.posix_spawn(os.environ["BENCH_REAL_FFMPEG"], sys.argv, os.environ,
                     setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))  # as subprocess would: defaults back
_, status, usage = os.wait4(pid, 0)
with open(os.environ["BENCH_FFMPEG_PEAKS"], "a") as peaks:
    peaks.write(f"{usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclasses.dataclass(frozen=True)
class Master:
    path: Path
    format: str
    seconds: int


@dataclasses.dataclass(frozen=True)
class Result:
    master: Master
    method: str
    wall_s: float
    python_mb: float | None  # None for the baseline: no Python does the work
    ffmpeg_mb: float  # the largest ffmpeg the method started

    @property
    def peak_mb(self) -> float:
        return max(self.python_mb or 0.0, self.ffmpeg_mb)

    @property
    def sum_mb(self) -> float | None:
        # Python and its ffmpeg run at the same time, so both peaks can be resident at once.
        return None if self.python_mb is None else self.python_mb + self.ffmpeg_mb


def progress(message: str) -> None:
    sys.stderr.write(f"\r{message:<60}")
    sys.stderr.flush()


def kilobytes_to_mb(kilobytes: int) -> float:  # ru_maxrss counts kilobytes on Linux
    return kilobytes / 1024


# -- Inputs --------------------------------------------------------------------------------------------------

def generate_wav(path: Path, seconds: int) -> None:
    """A stereo mix that is neither silent nor trivially compressible, so the codecs do real work."""
    sources = [f"sine=frequency=220:sample_rate={SAMPLE_RATE}:duration={seconds}",
               f"sine=frequency=331:sample_rate={SAMPLE_RATE}:duration={seconds}",
               f"anoisesrc=color=pink:amplitude=0.1:sample_rate={SAMPLE_RATE}:duration={seconds}"]
    graph = ("[0:a][1:a]amerge=inputs=2[tones];[2:a]pan=stereo|c0=c0|c1=c0[noise];"
             "[tones][noise]amix=inputs=2:normalize=0")
    inputs = [argument for source in sources for argument in ("-f", "lavfi", "-i", source)]
    ffmpeg([*inputs, "-filter_complex", graph, "-c:a", "pcm_s16le", str(path)])


def encode_mp3(wav: Path, path: Path) -> None:
    ffmpeg(["-i", str(wav), "-c:a", "libmp3lame", "-b:a", MASTER_MP3_BITRATE, str(path)])


def ffmpeg(arguments: list[str]) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *arguments], check=True)


def prepare_masters(folder: Path, lengths: list[int], formats: list[str]) -> list[Master]:
    masters = []
    for seconds in lengths:
        progress(f"generating {seconds} s masters")
        wav = folder / f"master-{seconds}s.wav"
        generate_wav(wav, seconds)
        if "mp3" in formats:
            encode_mp3(wav, folder / f"master-{seconds}s.mp3")
        masters += [Master(folder / f"master-{seconds}s.{fmt}", fmt, seconds) for fmt in formats]
    return masters


def install_relay(folder: Path) -> Path:
    """A folder holding the relay as `ffmpeg`, to put first on PATH for the memory runs."""
    relay_folder = folder / "relay"
    relay_folder.mkdir()
    relay = relay_folder / "ffmpeg"
    # -SI as one word: the kernel passes everything after the interpreter as a single argument.
    relay.write_text(f"#!{sys.executable} -SI\n{RELAY_SOURCE}")
    relay.chmod(0o755)
    return relay_folder


# -- The measured work (run inside a fresh process by --run-one) ---------------------------------------------

def baseline_command(master: Path, period: Path, out: Path) -> list[str]:
    """Decode + mix + encode, nothing else: the floor any preview pipeline is compared with."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-i", str(master), "-stream_loop", "-1", "-i", str(period),
            "-filter_complex", "amix=inputs=2:duration=first:normalize=0",
            "-c:a", "libmp3lame", "-b:a", PREVIEW_BITRATE, "-ar", str(SAMPLE_RATE), "-ac", "2", str(out)]


def run_baseline(master: Path, period: Path, out: Path, seconds: int) -> None:
    subprocess.run(baseline_command(master, period, out), check=True)


def run_pipeline(master: Path, period: Path, out: Path, seconds: int) -> None:
    # The pipeline prepares its own tag period from the tag, as it does in production.
    render_preview(master, DEFAULT_TAG_PATH, PLACEMENT, seconds * 1000, out, title="Bench", artist="Bench")


def run_pydub(master: Path, period: Path, out: Path, seconds: int) -> None:
    from pydub import AudioSegment

    beat = AudioSegment.from_file(master)
    tag = AudioSegment.from_file(DEFAULT_TAG_PATH).set_frame_rate(SAMPLE_RATE).set_channels(2)
    tag = tag.apply_gain(PLACEMENT.gain_db)
    interval_ms = int(PLACEMENT.interval_seconds * 1000)
    for position in range(int(PLACEMENT.first_at_seconds * 1000), len(beat), interval_ms):
        beat = beat.overlay(tag, position=position)
    beat.export(out, format="mp3", bitrate=PREVIEW_BITRATE, parameters=["-ar", str(SAMPLE_RATE), "-ac", "2"])


RUNNERS = {"ffmpeg": run_baseline, "pipeline": run_pipeline, "pydub": run_pydub}


def run_one(method: str, master: Path, period: Path, out: Path, seconds: int) -> None:
    """Do one run in this process and print, as one JSON line, how long it took and this
    process's peak RSS (its imports included: the worker that renders previews has them too)."""
    started = time.perf_counter()
    RUNNERS[method](master, period, out, seconds)
    wall_s = time.perf_counter() - started
    python_kb = None if method == "ffmpeg" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"wall_s": wall_s, "python_kb": python_kb, "output_bytes": out.stat().st_size}))


# -- Measuring from the outside ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Workspace:
    period: Path  # the baseline's tag period
    out: Path  # every run writes its preview here
    relay_folder: Path
    ffmpeg_peaks: Path  # where the relay records the peak of each ffmpeg it ran


def measure_once(method: str, master: Master, workspace: Workspace, *, with_relay: bool) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--run-one", method, str(master.path),
               str(workspace.out), "--period", str(workspace.period), "--seconds", str(master.seconds)]
    env = dict(os.environ)
    if with_relay:
        workspace.ffmpeg_peaks.unlink(missing_ok=True)
        env.update(PATH=f"{workspace.relay_folder}{os.pathsep}{env['PATH']}",
                   BENCH_REAL_FFMPEG=shutil.which("ffmpeg"), BENCH_FFMPEG_PEAKS=str(workspace.ffmpeg_peaks))
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{method} on {master.path.name} failed:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    check_output_length(method, master, report["output_bytes"])
    if with_relay:
        report["ffmpeg_kb"] = max(int(line) for line in workspace.ffmpeg_peaks.read_text().split())
    return report


def check_output_length(method: str, master: Master, output_bytes: int) -> None:
    """A fast run that stopped early would look like a win: the MP3 must cover the whole master."""
    expected = master.seconds * int(PREVIEW_BITRATE.rstrip("k")) * 1000 / 8
    if output_bytes < 0.95 * expected:
        raise SystemExit(f"{method} on {master.path.name} wrote {output_bytes} bytes, "
                         f"expected about {expected:.0f}")


def measure(master: Master, methods: list[str], workspace: Workspace, repeat: int) -> list[Result]:
    """Every method on one master: first one memory run each through the relay, then the timed
    runs, taking turns so that drift in the machine's speed falls on all methods alike."""
    memory_runs = {}
    for method in methods:
        progress(f"{master.format} {master.seconds} s: {method} memory run")
        memory_runs[method] = measure_once(method, master, workspace, with_relay=True)
    timed_runs: dict[str, list[dict]] = {method: [] for method in methods}
    for attempt in range(1, repeat + 1):
        for method in methods:
            progress(f"{master.format} {master.seconds} s: {method} {attempt}/{repeat}")
            timed_runs[method].append(measure_once(method, master, workspace, with_relay=False))
    return [summarise_runs(master, method, memory_runs[method], timed_runs[method]) for method in methods]


def summarise_runs(master: Master, method: str, memory_run: dict, timed_runs: list[dict]) -> Result:
    python_peaks = [run["python_kb"] for run in [memory_run, *timed_runs] if run["python_kb"] is not None]
    return Result(master, method, wall_s=statistics.median(run["wall_s"] for run in timed_runs),
                  python_mb=kilobytes_to_mb(max(python_peaks)) if python_peaks else None,
                  ffmpeg_mb=kilobytes_to_mb(memory_run["ffmpeg_kb"]))


def methods_for(master: Master, pydub_max_seconds: int) -> list[str]:
    return [method for method in METHODS if method != "pydub" or master.seconds <= pydub_max_seconds]


# -- Report --------------------------------------------------------------------------------------------------

def megabytes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(results: list[Result], repeat: int) -> None:
    baselines = {result.master: result.wall_s for result in results if result.method == "ffmpeg"}
    print(f"\nwatermarked preview, MP3 {PREVIEW_BITRATE}, tag every {PLACEMENT.interval_seconds:g} s, "
          f"median of {repeat} timed runs, {os.cpu_count()} CPUs")
    print("RSS in MB: peak = the larger of Python and ffmpeg; sum = both, as they run at the same time")
    print(f"{'input':<6} {'length':>7} {'method':<9} {'wall s':>8} {'peak':>6} {'python':>7} {'ffmpeg':>7} "
          f"{'sum':>6} {'x ffmpeg':>9}")
    for result in results:
        ratio = result.wall_s / baselines[result.master]
        print(f"{result.master.format:<6} {result.master.seconds:>5} s {result.method:<9} "
              f"{result.wall_s:>8.2f} {result.peak_mb:>6.0f} {megabytes(result.python_mb):>7} "
              f"{result.ffmpeg_mb:>7.0f} {megabytes(result.sum_mb):>6} {ratio:>9.2f}")


def print_summary(results: list[Result]) -> list[tuple[bool, str]]:
    baselines = {result.master: result.wall_s for result in results if result.method == "ffmpeg"}
    pipeline = [result for result in results if result.method == "pipeline"]
    checks = [ratio_check(pipeline, baselines), rss_check(pipeline), flatness_check(pipeline)]
    met = all(passed for passed, _ in checks)
    print(f"\ntargets {'MET' if met else 'NOT MET'}")
    for _, line in checks:
        print(f"  {line}")
    return checks


def json_summary(results: list[Result], checks: list[tuple[bool, str]]) -> dict:
    """The pipeline's figures per input, with its ratio to the baseline, and each target's verdict."""
    baselines = {result.master: result.wall_s for result in results if result.method == "ffmpeg"}
    rows = [{"name": line, "value": "", "unit": "", "met": passed} for passed, line in checks]
    for result in results:
        if result.method == "ffmpeg":
            continue
        name = f"{result.method} {result.master.format} {result.master.seconds} s"
        rows.append({"name": f"{name} wall", "value": round(result.wall_s, 2), "unit": "s",
                     "ratio": round(result.wall_s / baselines[result.master], 2)})
        rows.append({"name": f"{name} peak RSS", "value": round(result.peak_mb), "unit": "MB"})
    return {"benchmark": "preview", "met": all(passed for passed, _ in checks), "rows": rows}


def ratio_check(pipeline: list[Result], baselines: dict[Master, float]) -> tuple[bool, str]:
    ratios = {result.master: result.wall_s / baselines[result.master] for result in pipeline
              if result.master.seconds >= RATIO_TARGET_MIN_SECONDS}
    if not ratios:
        return True, f"ratio not measured (no length >= {RATIO_TARGET_MIN_SECONDS} s)"
    worst = max(ratios, key=ratios.get)
    passed = ratios[worst] <= RATIO_TARGET
    return passed, (f"ratio <= {RATIO_TARGET:g} at >= {RATIO_TARGET_MIN_SECONDS} s {verdict(passed)} "
                    f"(worst {ratios[worst]:.2f}, {worst.format} {worst.seconds} s)")


def rss_check(pipeline: list[Result]) -> tuple[bool, str]:
    highest = max(pipeline, key=lambda result: result.peak_mb)
    passed = highest.peak_mb < RSS_TARGET_MB
    together = max(result.sum_mb for result in pipeline)
    return passed, (f"pipeline peak RSS < {RSS_TARGET_MB} MB {verdict(passed)} "
                    f"(max {highest.peak_mb:.0f} MB; Python and ffmpeg together up to {together:.0f} MB)")


def flatness_check(pipeline: list[Result]) -> tuple[bool, str]:
    """The largest change in peak RSS from the shortest to the longest track, over the formats."""
    growth = 0
    for fmt in {result.master.format for result in pipeline}:
        by_length = sorted((result for result in pipeline if result.master.format == fmt),
                           key=lambda result: result.master.seconds)
        change = round(by_length[-1].peak_mb - by_length[0].peak_mb)  # rounded, so never "-0 MB"
        growth = change if abs(change) > abs(growth) else growth
    passed = abs(growth) <= RSS_FLAT_TOLERANCE_MB
    return passed, f"flat with length {verdict(passed)} (peak moves {growth:+.0f} MB, shortest to longest)"


def verdict(passed: bool) -> str:
    return "met" if passed else "NOT met"


# -- Entry point ---------------------------------------------------------------------------------------------

def comma_separated(kind):
    return lambda text: [kind(item) for item in text.split(",") if item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=comma_separated(int), default=[30, 180, 600], help="seconds")
    parser.add_argument("--formats", type=comma_separated(str), default=["wav", "mp3"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method and input")
    parser.add_argument("--pydub-10min", action="store_true",
                        help="also run the pydub version beyond 3 min (about 500 MB at 10 min)")
    parser.add_argument("--json", type=Path, help="also write a machine-readable summary here")
    parser.add_argument("--run-one", nargs=3, metavar=("METHOD", "MASTER", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--period", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run_one:
        method, master, out = args.run_one
        run_one(method, Path(master), args.period, Path(out), args.seconds)
        return

    unknown = set(args.formats) - {"wav", "mp3"}
    if unknown or not args.formats or not args.lengths or args.repeat < 1:
        parser.error("--formats takes wav and/or mp3; --lengths and --repeat must not be empty or zero")
    pydub_max_seconds = max(args.lengths) if args.pydub_10min else PYDUB_DEFAULT_MAX_SECONDS
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as folder_name:
        folder = Path(folder_name)
        masters = prepare_masters(folder, sorted(set(args.lengths)), args.formats)
        workspace = Workspace(period=folder / "tag-period.wav", out=folder / "preview.mp3",
                              relay_folder=install_relay(folder), ffmpeg_peaks=folder / "ffmpeg-peaks.txt")
        tag_period(DEFAULT_TAG_PATH, PLACEMENT, workspace.period)  # the baseline's only preparation, untimed
        results = []
        for master in masters:
            results += measure(master, methods_for(master, pydub_max_seconds), workspace, args.repeat)
    sys.stderr.write("\n")
    print_table(results, args.repeat)
    checks = print_summary(results)
    if args.json:
        args.json.write_text(json.dumps(json_summary(results, checks), indent=2))


if __name__ == "__main__":
    main()
