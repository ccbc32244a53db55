"""Soak: a long call through the whole live path — pipeline, rules, session log — holds up.

A call of ``--minutes`` (default 60) made of the synthetic fixtures looped, run either in real
time (``--clock realtime``: audio is released at the speed of the world, as a microphone
would; takes the full hour) or with the simulated clock (default: as fast as the machine
goes, every event's ``at`` still what it would be live; a quick run). Checks the goals of
issue 6 and prints them as a table:

* peak memory (RSS) <= 400 MB, and no growth over the last half of the call (where RSS
  settles: a transient high is shown, and counts in the peak);
* CPU <= 50 % of one core on average (CPU seconds per second of call audio);
* word latency p95 in the last window no worse than in the first (window = 10 min, or a
  third of a shorter call; "no worse" allows 0.25 s of noise).

    python benchmarks/soak.py --minutes 6           # quick, simulated clock
    python benchmarks/soak.py --clock realtime      # the real thing: one hour

The machine has 2 shared cores: timings vary with whatever else runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from faster_whisper import decode_audio

from assist.audio.base import SAMPLE_RATE, Chunk
from assist.events import Prompt, Word
from assist.model import load_model
from assist.pipeline import Pipeline
from assist.rules import Engine, default_rules_dir, load_pack
from assist.session_log import SessionLog

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ("01_layoffs", "04_interrupt", "08_friendly")
BLOCK = 1600
GOAL_RSS_MB = 400.0
GOAL_CPU = 0.5
LATENCY_NOISE = 0.25


class LoopedCall:
    """Fixtures end to end, looped to ``seconds``; paced = released at real time."""

    speakers = ("rep", "customer")

    def __init__(self, seconds: float, paced: bool) -> None:
        self.parts = [
            np.stack(decode_audio(str(ROOT / "audio_fixtures" / f"{n}.flac"), SAMPLE_RATE, split_stereo=True), 1)
            for n in FIXTURES
        ]
        self.total = int(seconds * SAMPLE_RATE)
        self.paced = paced
        self.description = f"{len(FIXTURES)} fixtures looped to {seconds / 60:.0f} min"
        self.pos = 0
        self.start = time.monotonic()

    def _block(self, n: int) -> np.ndarray:
        out, got = [], 0
        cycle = sum(len(p) for p in self.parts)
        while got < n:
            offset = (self.pos + got) % cycle
            for part in self.parts:  # the part that holds this sample
                if offset < len(part):
                    piece = part[offset : offset + n - got]
                    out.append(piece)
                    got += len(piece)
                    break
                offset -= len(part)
        return np.concatenate(out)

    def read(self, timeout: float | None = None) -> Chunk | None:
        if self.pos >= self.total:
            return None
        n = min(BLOCK, self.total - self.pos)
        if self.paced:
            due = (self.pos + n) / SAMPLE_RATE - (time.monotonic() - self.start)
            if due > 0:
                if timeout is not None and due > timeout:
                    time.sleep(timeout)
                    return Chunk(np.zeros((0, 2), np.float32))
                time.sleep(due)
        block = self._block(n)
        self.pos += n
        return Chunk(block.astype(np.float32))

    def close(self) -> None:
        self.pos = self.total


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--clock", choices=("simulated", "realtime"), default="simulated")
    parser.add_argument("--cpu-threads", type=int, default=None, help="model threads (default: assist's)")
    args = parser.parse_args(argv)

    seconds = args.minutes * 60
    window = min(600.0, seconds / 3)
    model = load_model() if args.cpu_threads is None else load_model(cpu_threads=args.cpu_threads)
    source = LoopedCall(seconds, paced=args.clock == "realtime")
    pipeline = Pipeline(source, model, clock=args.clock)
    engine = Engine(load_pack([default_rules_dir()]))
    data = tempfile.mkdtemp(prefix="assist-soak-")
    log = SessionLog.create(directory=Path(data), source=source.description)

    samples: list[tuple[float, float]] = []  # (call seconds, RSS MB)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(1.0):
            samples.append((pipeline.captured, rss_mb()))

    threading.Thread(target=watch, daemon=True).start()
    cpu0, wall0 = time.process_time(), time.monotonic()
    latencies: list[tuple[float, float]] = []  # (word end, latency)
    prompts = 0
    last_report = 0.0
    try:
        for event in engine.coach(pipeline.events()):
            log.write(event)
            if isinstance(event, Prompt):
                prompts += 1
            elif isinstance(event, Word):
                latencies.append((event.end, event.at - event.end))
            if event.at - last_report >= 300:
                last_report = event.at
                cpu_so_far = (time.process_time() - cpu0) / max(event.at, 1e-9)
                print(f"  {event.at / 60:5.1f} min  rss {rss_mb():6.1f} MB  cpu {cpu_so_far:.2f}  "
                      f"words {len(latencies)}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C: the figures for the call so far
        print("  interrupted: figures for the call so far", file=sys.stderr)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    done.set()
    log.close()
    call = pipeline.captured
    samples.append((call, rss_mb()))

    rss = np.array([m for _, m in samples])
    half = [m for t, m in samples if t >= call / 2]
    # Growth is where RSS settles, not its highest moment: one long window's decode can
    # hold ~20 MB for a while (CTranslate2's caching allocator) and give it back. The
    # level is the median of a tenth of the half's samples at either end.
    tenth = max(len(half) // 10, 1)
    at_half = float(np.median(half[:tenth])) if half else float("nan")
    at_end = float(np.median(half[-tenth:])) if half else float("nan")
    growth = at_end - at_half
    transient = max(half) - at_half if half else float("nan")
    first = [lat for end, lat in latencies if end < window]
    last = [lat for end, lat in latencies if end >= call - window]
    p95_first = float(np.percentile(first, 95)) if first else float("nan")
    p95_last = float(np.percentile(last, 95)) if last else float("nan")
    cpu_share = cpu / call

    rows = [
        ("peak RSS (MB)", f"{rss.max():.0f}", f"<= {GOAL_RSS_MB:.0f}", rss.max() <= GOAL_RSS_MB),
        ("RSS growth, last half (MB)", f"{growth:+.1f}", "<= +10 (flat)", growth <= 10),
        ("RSS highest above the half's level (MB)", f"{transient:+.1f}", "(peak above)", True),
        ("CPU, share of one core", f"{cpu_share:.2f}", f"<= {GOAL_CPU:.2f}", cpu_share <= GOAL_CPU),
        (f"word latency p95, first {window / 60:.0f} min (s)", f"{p95_first:.2f}", "baseline", True),
        (f"word latency p95, last {window / 60:.0f} min (s)", f"{p95_last:.2f}",
         f"<= {p95_first + LATENCY_NOISE:.2f}", p95_last <= p95_first + LATENCY_NOISE),
    ]
    print(f"soak: {call / 60:.1f} min call, clock {args.clock}, threads {args.cpu_threads or 'default'}, "
          f"wall {wall / 60:.1f} min, "
          f"{len(latencies)} words, {prompts} prompts, log {os.path.getsize(log.path) / 1e6:.1f} MB")
    print(f"{'measure':42} {'value':>8}  {'goal':>14}  ok")
    for name, value, goal, ok in rows:
        print(f"{name:42} {value:>8}  {goal:>14}  {'yes' if ok else 'NO'}")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
