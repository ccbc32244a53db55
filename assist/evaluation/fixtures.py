"""Recorded calls with their sidecars: what was said when, and which prompts should appear.

A fixture is an audio file (left = rep, right = customer) plus a JSON sidecar of the same
stem (``call.flac`` + ``call.json``). Sidecar fields (times in seconds of call audio):

- ``audio``: the audio file's name, beside the sidecar (default: same stem, any audio suffix)
- ``title``, ``practice``: free text for the report
- ``utterances``: ``[{id, speaker, start, end, text}]`` — optional, for reading the report
- ``expect``: ``[{rule, start, end, note}]`` — each must fire with ``start <= at <= end``
- ``must_not``: ``[{rule, start, end, note}]`` — must not fire in the window (``rule = "*"``:
  no prompt at all; ``end = null``: to the end of the call)
- ``allow``: rule ids that may fire anywhere without counting as unexpected

An audio file given without a sidecar is a fixture without expectations: its prompts are
reported, never scored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assist.errors import AssistError

AUDIO_SUFFIXES = (".flac", ".opus", ".ogg", ".wav", ".mp3", ".m4a")
ANY_RULE = "*"


@dataclass(frozen=True, slots=True)
class Utterance:
    id: str
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Window:
    """A rule and the stretch of call time in which it should (or must not) appear."""

    rule: str
    start: float
    end: float  # math.inf: to the end of the call
    note: str = ""
    line: str = ""

    def covers(self, rule: str, at: float) -> bool:
        return (self.rule in (rule, ANY_RULE)) and self.start <= at <= self.end


@dataclass(frozen=True, slots=True)
class Fixture:
    name: str
    audio: Path
    sidecar: Path | None
    title: str = ""
    practice: str = ""
    utterances: tuple[Utterance, ...] = ()
    expect: tuple[Window, ...] = ()
    must_not: tuple[Window, ...] = ()
    allow: frozenset[str] = frozenset()

    @property
    def scored(self) -> bool:
        """False for a bare recording: prompts are listed, not judged."""
        return self.sidecar is not None


def _number(value: Any, where: str, default: float | None = None) -> float:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssistError(f"{where}: expected a number of seconds, got {value!r}")
    return float(value)


def _windows(data: dict, key: str, path: Path) -> tuple[Window, ...]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise AssistError(f"{path}: {key!r} must be a list")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}: {key}[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
            raise AssistError(f"{where}: needs a rule id")
        start = _number(entry.get("start"), f"{where}.start", default=0.0)
        end = _number(entry.get("end"), f"{where}.end", default=math.inf)
        if end < start:
            raise AssistError(f"{where}: end {end} is before start {start}")
        out.append(Window(entry["rule"], start, end, str(entry.get("note", "")), str(entry.get("line", ""))))
    return tuple(out)


def _utterances(data: dict, path: Path) -> tuple[Utterance, ...]:
    out = []
    for i, u in enumerate(data.get("utterances", [])):
        where = f"{path}: utterances[{i}]"
        try:
            out.append(Utterance(str(u.get("id", i + 1)), str(u["speaker"]), _number(u["start"], where),
                                 _number(u["end"], where), str(u.get("text", ""))))
        except (KeyError, AttributeError):
            raise AssistError(f"{where}: needs speaker, start and end") from None
    return tuple(out)


def _audio_beside(sidecar: Path, data: dict) -> Path:
    if "audio" in data:
        audio = sidecar.parent / str(data["audio"])
        if not audio.is_file():
            raise AssistError(f"{sidecar}: audio file {audio.name} not found beside it")
        return audio
    for suffix in AUDIO_SUFFIXES:
        if (candidate := sidecar.with_suffix(suffix)).is_file():
            return candidate
    raise AssistError(f"{sidecar}: no audio file with the same name beside it")


def load_sidecar(path: Path) -> Fixture:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise AssistError(f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise AssistError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise AssistError(f"{path}: a sidecar is a JSON object")
    allow = data.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(r, str) for r in allow):
        raise AssistError(f"{path}: 'allow' must be a list of rule ids")
    return Fixture(
        name=path.stem,
        audio=_audio_beside(path, data),
        sidecar=path,
        title=str(data.get("title", "")),
        practice=str(data.get("practice", "")),
        utterances=_utterances(data, path),
        expect=_windows(data, "expect", path),
        must_not=_windows(data, "must_not", path),
        allow=frozenset(allow),
    )


def load_fixture(path: str | Path) -> Fixture:
    """A sidecar, or an audio file (its sidecar if one sits beside it, else unscored)."""
    path = Path(path)
    if not path.exists():
        raise AssistError(f"{path}: no such file")
    if path.suffix == ".json":
        return load_sidecar(path)
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        fixture = load_sidecar(sidecar)
        if fixture.audio.resolve() == path.resolve():
            return fixture
    return Fixture(name=path.stem, audio=path, sidecar=None)


def find_fixtures(paths: list[str | Path]) -> list[Fixture]:
    """Fixtures named on the command line; a directory means every sidecar in it."""
    fixtures: list[Fixture] = []
    for path in map(Path, paths):
        if path.is_dir():
            sidecars = sorted(path.glob("*.json"))
            if not sidecars:
                raise AssistError(f"{path}: no fixture sidecars (*.json) in this directory")
            fixtures.extend(load_sidecar(s) for s in sidecars)
        else:
            fixtures.append(load_fixture(path))
    return fixtures


__all__ = ["ANY_RULE", "Fixture", "Utterance", "Window", "find_fixtures", "load_fixture", "load_sidecar"]
