"""Run one recorded call through the whole pipeline (audio → VAD → transcriber → rules).

The pipeline's ``simulated`` clock reads the file as fast as the machine goes while stamping
every event with the ``at`` it would have had in real time, so prompt latencies are those a
rep would see live on this machine (or, on the fixed cost model, on the machines the stream
was tuned on).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.audio.file import FileSource
from assist.errors import AssistError
from assist.events import Event, Prompt, from_dict
from assist.pipeline import Pipeline
from assist.rules import Engine, RulePack

from .fixtures import Fixture

# Called with (call seconds processed, call seconds in all) as the run advances.
Progress = Callable[[float, float | None], None]


@dataclass
class FixtureRun:
    fixture: Fixture
    prompts: list[Prompt]
    audio_seconds: float
    wall_seconds: float
    events: list[Event] = field(default_factory=list)  # only when asked to keep them


def run_fixture(
    fixture: Fixture,
    model: Any,
    pack: RulePack,
    *,
    progress: Progress | None = None,
    keep_events: bool = False,
    sim_time: str = "cpu",
) -> FixtureRun:
    """Replay ``fixture`` in simulated real time; a fresh rule engine for each call.

    ``sim_time`` is what each pass is charged (:mod:`assist.transcription.cost`): this
    machine's CPU time by default, or ``"model[:SCALE]"`` for a schedule that is the same
    on every machine."""
    started = time.perf_counter()
    source = FileSource(fixture.audio)
    total = source.declared
    pipeline = Pipeline(source, model, clock="simulated", sim_time=sim_time)
    engine = Engine(pack)
    prompts: list[Prompt] = []
    kept: list[Event] = []
    for event in engine.coach(pipeline.events()):
        if isinstance(event, Prompt):
            prompts.append(event)
        if keep_events:
            kept.append(event)
        if progress is not None:
            progress(pipeline.captured, total)
    return FixtureRun(fixture, prompts, pipeline.captured, time.perf_counter() - started, kept)


def rescore_events(fixture: Fixture, events_file: Path, pack: RulePack) -> FixtureRun:
    """Feed events saved by an earlier run (``assist eval --events``) to a fresh engine: a
    rule change re-scored in milliseconds, on the very same transcript. Saved prompts are
    dropped; the engine makes its own."""
    started = time.perf_counter()
    engine = Engine(pack)
    prompts: list[Prompt] = []
    end = 0.0
    try:
        lines = events_file.read_text().splitlines()
    except OSError as exc:
        raise AssistError(f"{events_file}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        try:
            event = from_dict(json.loads(line))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise AssistError(f"{events_file}:{number}: {exc}") from None
        if not isinstance(event, Prompt):
            prompts += engine.feed(event)
            end = event.at
    return FixtureRun(fixture, prompts, end, time.perf_counter() - started)


def write_events(path: Path, events: list[Event]) -> None:
    """One :func:`assist.events.to_dict` object per line, partials included."""
    from assist.events import to_dict

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(to_dict(e)) + "\n" for e in events))


__all__ = ["FixtureRun", "Progress", "rescore_events", "run_fixture", "write_events"]
