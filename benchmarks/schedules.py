#!/usr/bin/env python3
"""Policy variants side by side, each over several schedules, in one run.

On the fixed cost model (``--sim-time model:SCALE``) a run repeats exactly, but one policy's
WER on the phone call moves by 0.014-0.034 when the scale changes by 10 %: a new schedule
shifts every later window, and with it which hard words tiny.en gets right. So a variant is
judged on its mean over several scales against the kept policy's mean over the same ones,
never on one run (docs/transcription.md, "One policy across four schedules").

    python benchmarks/schedules.py --variant final_wait=0.5
    python benchmarks/schedules.py --files call,synthetic --scales 0.8,1,1.2 \\
        --variant wait=final_wait=0.5 --variant margin=sure_margin=0.6,heard_after=0.8

A variant is ``[NAME=]KEY=VALUE[,KEY=VALUE...]`` of channel options (values read as JSON
where they can); the kept policy (no options) is always the first column. Each (file,
variant, scale) runs the stream method of ``transcription.py`` on its own thread, the model
shared: the cost model's clock is the same whatever runs beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.transcription import BenchFile, fmt, key_values, run_pipeline  # noqa: E402

KEPT = "kept"


def parse_variant(text: str) -> tuple[str, dict]:
    """``"final_wait=0.5"`` → ("final_wait=0.5", {...}); ``"wait=final_wait=0.5"`` → ("wait", {...})."""
    head, _, rest = text.partition("=")
    if "=" in rest.split(",")[0]:
        name, spec = head, rest
    else:
        name, spec = text, text
    try:
        return name, key_values([kv for kv in spec.split(",") if kv])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected [NAME=]KEY=VALUE[,KEY=VALUE...]") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default="call", help="comma-separated: call, jfk, stereo, synthetic")
    ap.add_argument("--scales", default="0.9,1.0,1.1,1.25", help="cost-model scales (default %(default)s)")
    ap.add_argument("--variant", action="append", default=[], type=parse_variant, metavar="[NAME=]KEY=VALUE,...")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once (default: one a core)")
    args = ap.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",") if s]
    variants = [(KEPT, {}), *args.variant]

    from assist.model import load_model
    from assist.transcription.decoder import WindowDecoder

    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        files = [BenchFile.load(name, model, Path(tmp)) for name in args.files.split(",") if name]

        def run(job: tuple[BenchFile, dict, float]) -> dict:
            bench, options, scale = job
            result = run_pipeline(bench.path, WindowDecoder(model), "simulated", f"model:{scale}", options)
            return bench.score(result)

        jobs = [(bench, options, scale) for bench in files for _, options in variants for scale in scales]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            scores = iter(list(pool.map(run, jobs)))

    print("\nsimulated clock on the cost model; each cell WER / commit p50 / p95 (s); variants "
          + "; ".join(f"{name}: {options or 'the defaults'}" for name, options in variants))
    for bench in files:
        table = {name: [next(scores) for _ in scales] for name, _ in variants}
        header = "| scale | " + " | ".join(name for name, _ in variants) + " |"
        print(f"\n{bench.label}, offline WER {fmt(bench.offline_wer, '.3f')}\n")
        print(header)
        print("|" + "---|" * (header.count("|") - 1))

        def cell(wer: float, p50: float, p95: float) -> str:
            return f"{fmt(wer, '.3f')} / {fmt(p50)} / {fmt(p95)}"

        for i, scale in enumerate(scales):
            print(f"| {scale:g} | " + " | ".join(cell(*(t[i][k] for k in ("wer", "lat50", "lat95")))
                                                for t in table.values()) + " |")
        means = {name: [statistics.fmean(r[k] for r in rows) for k in ("wer", "lat50", "lat95")]
                 for name, rows in table.items()}
        print("| mean | " + " | ".join(cell(*m) for m in means.values()) + " |")
        spread = {name: max(r["wer"] for r in rows) - min(r["wer"] for r in rows) for name, rows in table.items()}
        print("| WER spread | " + " | ".join(fmt(v, ".3f") for v in spread.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
