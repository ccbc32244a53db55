"""``assist eval [FIXTURES…]``: replay recorded calls through the whole pipeline and score
the prompts against each call's sidecar (see ``audio_fixtures/README.md``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from assist.errors import AssistError
from assist.transcription.cost import parse_sim_time, sim_time_arg

if TYPE_CHECKING:
    from assist.evaluation import Fixture, FixtureScore

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text}: must be between 0 and 1")
    return value


class _Stopped(Exception):
    """Raised inside a call replaying beside one that failed (or on Ctrl-C), to end it."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be a whole number of at least 1")
    return value


def _jobs(args: argparse.Namespace, fixtures: int) -> int:
    """How many calls replay at once: side by side only on the cost model's clock, since
    process CPU time (and wall time) would count a neighbour's passes too."""
    if args.rescore is not None:
        return 1  # re-scoring saved events takes milliseconds
    fixed = parse_sim_time(args.sim_time)[0] == "model"
    if args.jobs is None:
        return min(fixtures, os.cpu_count() or 1) if fixed else 1
    if args.jobs > 1 and not fixed:
        raise AssistError(f"--jobs {args.jobs} needs --sim-time model: with --sim-time "
                          f"{args.sim_time} each call would be charged the others' passes")
    return args.jobs


def _side_by_side(one: Callable[[Fixture], FixtureScore], fixtures: list[Fixture], jobs: int,
                  stopping: threading.Event) -> list[FixtureScore]:
    """``one`` over ``fixtures`` on ``jobs`` threads, scores in order. The first failure (or
    Ctrl-C) is raised at once, with ``stopping`` set to end the calls still replaying.

    Threads, one model: CTranslate2 decodes on its own workers (load_model gives it two)
    outside the GIL, and the cost model's clock is each pipeline's own."""
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(one, fixture) for fixture in fixtures]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:  # the failure, not a neighbour that is still running
                if future.done() and future.exception() is not None:
                    raise future.exception()
            return [future.result() for future in futures]
        except BaseException:
            stopping.set()
            for future in futures:
                future.cancel()
            raise


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score the prompts on recorded calls against their expected prompts",
        description="Run each fixture (audio + JSON sidecar) through audio → VAD → streaming "
        "transcriber → rules as fast as the machine goes, with the latency every event would "
        "have had in real time, and report per fixture and per rule: prompts expected, fired, "
        "missed, unexpected, precision, recall and prompt latency. An audio file without a "
        "sidecar is replayed and its prompts listed. Exit status 1 when a fixture misses its "
        "thresholds or fires a prompt it must not.",
    )
    parser.add_argument("fixtures", nargs="*", type=Path,
                        help=f"sidecars, audio files or directories (default: {DEFAULT_FIXTURES.name}/)")
    parser.add_argument("--model", default=None, help="Whisper model (default: the bundled tiny.en)")
    parser.add_argument("--rules", action="append", type=Path, default=None,
                        help="rule pack file or directory (repeatable; default: the repository's rules/)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--min-recall", type=_fraction, default=1.0,
                        help="per fixture: share of expected prompts that must appear (default 1.0)")
    parser.add_argument("--min-precision", type=_fraction, default=1.0,
                        help="per fixture: share of scored prompts that must be expected (default 1.0)")
    parser.add_argument("--events", type=Path, default=None, metavar="DIR",
                        help="also write every fixture's events and prompts to DIR/NAME.jsonl")
    parser.add_argument("--rescore", type=Path, default=None, metavar="DIR",
                        help="skip the pipeline: feed the events saved by --events DIR to the "
                        "current rules (a rule change re-scored in a second)")
    parser.add_argument("--sim-time", type=sim_time_arg, default="cpu", metavar="HOW",
                        help="what each decoding pass costs on the simulated clock: cpu (this "
                        "machine's CPU time, the default), wall, or model[:SCALE] (a fixed cost "
                        "model: the same schedule, so the same prompts, on any machine)")
    parser.add_argument("--jobs", type=_positive, default=None, metavar="N",
                        help="replay N calls side by side (default: one per core with --sim-time "
                        "model, whose schedule no neighbour can change; else 1, since a CPU-time "
                        "clock would charge each call the other's passes)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assist.evaluation import find_fixtures, run_fixture, score, summarize
    from assist.evaluation.runner import rescore_events, write_events
    from assist.evaluation.progress import progress_bar
    from assist.evaluation.report import json_report, text_report
    from assist.model import load_model
    from assist.rules import default_rules_dir, load_pack

    fixtures = find_fixtures(args.fixtures or [DEFAULT_FIXTURES])
    if not fixtures:
        raise AssistError("no fixtures to evaluate")
    pack = load_pack(args.rules or [default_rules_dir()])
    jobs = _jobs(args, len(fixtures))
    model = None if args.rescore is not None else load_model(args.model)

    # Set when a call fails or on Ctrl-C: calls replaying beside it end at their next event.
    stopping = threading.Event()

    with progress_bar(fixtures, enabled=not args.no_progress and args.rescore is None) as bar:

        def one(fixture: Fixture) -> FixtureScore:
            if args.rescore is not None:
                result = rescore_events(fixture, args.rescore / f"{fixture.name}.jsonl", pack)
            else:
                with bar.fixture(fixture) as advance:

                    def progress(done: float, total: float | None) -> None:
                        if stopping.is_set():
                            raise _Stopped
                        advance(done, total)

                    result = run_fixture(fixture, model, pack, progress=progress,
                                         keep_events=args.events is not None, sim_time=args.sim_time)
                if args.events is not None:
                    write_events(args.events / f"{fixture.name}.jsonl", result.events)
            return score(fixture, result.prompts)

        if jobs == 1:
            scores = [one(fixture) for fixture in fixtures]
        else:
            scores = _side_by_side(one, fixtures, jobs, stopping)
    summary = summarize(scores)
    if args.json:
        json.dump(json_report(summary, args.min_recall, args.min_precision), sys.stdout, indent=1)
        print()
    else:
        print(text_report(summary, args.min_recall, args.min_precision))
    return 0 if all(s.passed(args.min_recall, args.min_precision) for s in summary.judged) else 1
