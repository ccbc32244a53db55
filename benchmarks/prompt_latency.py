#!/usr/bin/env python3
"""Prompt latency on the call fixtures against the goals (p50 <= 0.6 s, p95 <= 1.2 s).

    python benchmarks/prompt_latency.py [FIXTURES...]

Runs every fixture through the whole pipeline on the simulated clock (as ``assist eval``
does) and prints, per rule, the latency from the end of the triggering words to the prompt,
next to the latency of the committed words themselves (what a phrase rule cannot beat), and
the run's cost in × real time. Prompts fired by a measurement (silence, overlap, monologue
length) have no word latency and are not counted. Timings are on a shared 2-core machine:
noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL_P50, GOAL_P95 = 0.6, 1.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures", nargs="*", type=Path, default=[ROOT / "audio_fixtures"])
    args = parser.parse_args()
    from assist.evaluation import find_fixtures, run_fixture, score, summarize
    from assist.events import Word
    from assist.model import load_model
    from assist.rules import default_rules_dir, load_pack

    model, pack = load_model(), load_pack([default_rules_dir()])
    scores, word_lat, audio, wall = [], [], 0.0, 0.0
    for fx in find_fixtures(args.fixtures):
        t0 = time.perf_counter()
        run = run_fixture(fx, model, pack, keep_events=True)
        wall += time.perf_counter() - t0
        audio += run.audio_seconds
        word_lat += [e.at - e.end for e in run.events if isinstance(e, Word)]
        scores.append(score(fx, run.prompts))
        print(f"  {fx.name}: {run.audio_seconds:.0f} s of call in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    summary = summarize(scores)

    def row(name: str, values: list[float]) -> str:
        if not values:
            return f"{name:<20} {0:>4}"
        p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
        ok = "ok" if p50 <= GOAL_P50 and p95 <= GOAL_P95 else "over goal"
        return f"{name:<20} {len(values):>4} {p50:>7.2f} {p95:>7.2f}  {ok}"

    print(f"{'prompt latency (s)':<20} {'n':>4} {'p50':>7} {'p95':>7}  goal p50 <= {GOAL_P50}, p95 <= {GOAL_P95}")
    for rule, counts in summary.by_rule().items():
        if counts.latencies:
            print(row(rule, counts.latencies))
    print(row("ALL expected prompts", summary.totals().latencies))
    print(row("committed words", word_lat))
    print(f"recall {summary.recall:.2f} precision {summary.precision:.2f}; "
          f"{audio:.0f} s of calls in {wall:.0f} s = {audio / max(wall, 1e-9):.1f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
