"""Rule packs: ``rules/*.toml`` → validated :class:`RulePack`, problems as ``file:line: message``.

tomllib gives no line numbers, so :class:`_Lines` scans each file once to find the line of
every table header and key; a problem is reported at the key it is about.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.errors import RuleError

from .matching import Phrase, parse_phrase
from .state import BOOLEAN_MEASUREMENTS, MEASUREMENTS, MOMENTS, SETTING_NAMES, StateSettings

SPEAKER_CHOICES = ("rep", "customer", "any")
TICK = "tick"
_CONDITION = re.compile(r"^\s*([a-z_][a-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")
RULE_KEYS = {
    "id": "the rule's name, used by after/not_after/on and shown in prompts",
    "text": "the prompt as the rep sees it",
    "detail": "one line explaining it",
    "article": "the article it comes from (000-004, or turn-taking)",
    "step": "position in the article's sequence (for the scorecard)",
    "priority": "1 (hint) to 3 (urgent)",
    "cooldown": "seconds before it may fire again (default 60)",
    "max_per_call": "how often it may fire in one call (default 2)",
    "ttl": "seconds the prompt stays on screen (default 8)",
    "speaker": "whose words the phrases are: rep, customer or any",
    "phrases": "fires when the speaker says one of these",
    "on": "fires on this moment or rule instead (default: checked every tick)",
    "when": "conditions on the conversation state, all must hold",
    "after": "{ id = seconds }: only within that long after each of these fired",
    "not_after": "{ id = seconds }: not within that long after any of these fired",
    "unless_rep_said": "does not fire if the rep said one of these recently",
    "unless_within": "how recently, for unless_rep_said (default 120 s)",
    "silent": "true: shows nothing, only marks that it happened (for after/on)",
}


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    op: str
    value: float | bool | str  # a string names another measurement
    text: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    text: str = ""
    detail: str = ""
    article: str = ""
    step: int | None = None
    priority: int = 1
    cooldown: float = 60.0
    max_per_call: int = 2
    ttl: float = 8.0
    speaker: str = "customer"
    phrases: tuple[Phrase, ...] = ()
    on: tuple[str, ...] = ()
    when: tuple[tuple[Condition, ...], ...] = ()  # all groups must hold; one condition of each
    after: tuple[tuple[str, float], ...] = ()
    not_after: tuple[tuple[str, float], ...] = ()
    silent: bool = False
    source: str = ""  # file:line of its [[rule]] header


@dataclass(frozen=True)
class RulePack:
    rules: tuple[Rule, ...]
    settings: StateSettings = field(default_factory=StateSettings)
    heat: tuple[tuple[Phrase, float], ...] = ()
    files: tuple[Path, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    @property
    def visible(self) -> tuple[Rule, ...]:
        """The rules that show prompts (not the silent markers)."""
        return tuple(r for r in self.rules if not r.silent)


def default_rules_dir() -> Path:
    """``$ASSIST_RULES`` if set, else the repository's top-level ``rules/``."""
    env = os.environ.get("ASSIST_RULES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "rules"


def rule_files(paths: list[Path] | list[str] | tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


def load_pack(paths: list[Path] | list[str] | tuple[Path, ...] | Path | str) -> RulePack:
    """Load and validate every ``.toml`` in ``paths`` (files or directories).

    Raises RuleError whose message is one ``file:line: problem`` line per problem.
    """
    if isinstance(paths, (str, Path)):
        paths = [Path(paths)]
    problems: list[str] = []
    drafts: list[tuple[dict[str, Any], _Where]] = []
    settings: dict[str, float] = {}
    heat: list[tuple[Phrase, float]] = []
    files = rule_files(paths)
    if not files:
        raise RuleError(f"{', '.join(map(str, paths))}: no rule files (*.toml) found")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            problems.append(f"{path}:{line.group(1) if line else 1}: {message}")
            continue
        lines = _Lines(path, text)
        for key, value in data.items():
            if key == "rule" and isinstance(value, list):
                drafts.extend((raw, _Where(lines, ("rule", i))) for i, raw in enumerate(value))
            elif key == "state" and isinstance(value, dict):
                _read_settings(value, _Where(lines, ("state", 0)), settings, problems)
            elif key == "heat" and isinstance(value, dict):
                _read_heat(value, _Where(lines, ("heat", 0)), heat, problems)
            else:
                problems.append(f"{lines.at((key, 0))}: unknown table [{key}] "
                                "(expected [[rule]], [state] or [heat])")
    rules = _build_rules(drafts, problems)
    if problems:
        problems.sort(key=_file_line)
        raise RuleError("\n".join(problems))
    return RulePack(rules=tuple(rules), settings=StateSettings(**settings), heat=tuple(heat),
                    files=tuple(files))


def _file_line(problem: str) -> tuple[str, int]:
    match = re.match(r"(.*?):(\d+):", problem)
    return (match.group(1), int(match.group(2))) if match else (problem, 0)


class _Lines:
    """Line numbers of table headers and keys in one TOML file."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        table: tuple[str, int] = ("", 0)
        for number, line in enumerate(self.lines, 1):
            stripped = line.split("#", 1)[0] if not line.lstrip().startswith(("'", '"')) else line
            header = _TABLE.match(stripped)
            if header and not _KEY.match(stripped):
                name = header.group(1).strip()
                index = counts.get(name, 0)
                counts[name] = index + 1 if stripped.lstrip().startswith("[[") else index
                table = (name, index)
                self.tables.setdefault(table, number)
                continue
            key = _KEY.match(stripped)
            if key:
                self.keys.setdefault((*table, key.group(1).strip("\"'")), number)

    def at(self, table: tuple[str, int], key: str | None = None, needle: str | None = None) -> str:
        number = self.tables.get(table, 1)
        if key is not None:
            number = self.keys.get((*table, key), number)
        if needle is not None:
            for offset, line in enumerate(self.lines[number - 1:]):
                if needle in line:
                    number += offset
                    break
        return f"{self.path}:{number}"


@dataclass(frozen=True, slots=True)
class _Where:
    lines: _Lines
    table: tuple[str, int]

    def __call__(self, key: str | None = None, needle: str | None = None) -> str:
        return self.lines.at(self.table, key, needle)


def _read_settings(raw: dict[str, Any], where: _Where, out: dict[str, float], problems: list[str]) -> None:
    for key, value in raw.items():
        if key not in SETTING_NAMES:
            problems.append(f"{where(key)}: unknown state setting {key!r} "
                            f"(known: {', '.join(sorted(SETTING_NAMES))})")
        elif not _is_number(value) or value <= 0:
            problems.append(f"{where(key)}: {key} must be a positive number of seconds, not {value!r}")
        else:
            out[key] = float(value)


def _read_heat(raw: dict[str, Any], where: _Where, out: list[tuple[Phrase, float]], problems: list[str]) -> None:
    for key, value in raw.items():
        if not _is_number(value):
            problems.append(f"{where(key)}: heat weight of {key!r} must be a number, not {value!r}")
            continue
        try:
            out.append((parse_phrase(key), float(value)))
        except ValueError as exc:
            problems.append(f"{where(key)}: {exc}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "text": (str,), "detail": (str,), "article": (str,), "speaker": (str,),
    "step": (int,), "priority": (int,), "max_per_call": (int,),
    "cooldown": (int, float), "ttl": (int, float), "unless_within": (int, float),
    "phrases": (list,), "unless_rep_said": (list,), "when": (list,), "on": (str, list),
    "after": (dict,), "not_after": (dict,), "silent": (bool,),
}


def _build_rules(drafts: list[tuple[dict[str, Any], _Where]], problems: list[str]) -> list[Rule]:
    """Check each draft's keys and types, then cross-references once all ids are known."""
    rules: list[tuple[Rule, dict[str, Any], _Where]] = []
    seen: dict[str, str] = {}
    for raw, where in drafts:
        good: dict[str, Any] = {}  # the keys with the right type: still checked further
        for key, value in raw.items():
            if key not in RULE_KEYS:
                problems.append(f"{where(key)}: unknown key {key!r} in rule "
                                f"{raw.get('id', '?')!r} (known: {', '.join(RULE_KEYS)})")
            elif not isinstance(value, _TYPES[key]) or (isinstance(value, bool) and bool not in _TYPES[key]):
                kinds = " or ".join(_type_name(t) for t in _TYPES[key])
                problems.append(f"{where(key)}: {key} must be {kinds}, not {_type_name(type(value))}")
            else:
                good[key] = value
        rule_id = good.get("id")
        if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", rule_id):
            problems.append(f"{where('id')}: every rule needs an id of lower-case letters, digits and _")
            continue
        if rule_id in seen:
            problems.append(f"{where('id')}: duplicate rule id {rule_id!r} (first at {seen[rule_id]})")
        seen[rule_id] = where("id")
        built = _build_one(good, where, problems)
        if built:
            rules.extend((r, raw, where) for r in built)
    known = {r.id for r, _, _ in rules} | set(seen) | set(MOMENTS)
    for rule, raw, where in rules:
        _check_references(rule, raw, where, known, problems)
    return [r for r, _, _ in rules]


def _build_one(raw: dict[str, Any], where: _Where, problems: list[str]) -> list[Rule]:
    rule_id = raw["id"]
    silent = raw.get("silent", False)
    if not silent:
        for key in ("text", "article"):
            if not raw.get(key):
                problems.append(f"{where()}: rule {rule_id!r} needs {key} (or silent = true)")
    speaker = raw.get("speaker", "customer")
    if speaker not in SPEAKER_CHOICES:
        problems.append(f"{where('speaker')}: speaker must be one of {', '.join(SPEAKER_CHOICES)}, not {speaker!r}")
    phrases = _phrases(raw.get("phrases", []), "phrases", where, problems)
    on = raw.get("on", [])
    on = (on,) if isinstance(on, str) else tuple(on)
    if phrases and on:
        problems.append(f"{where('on')}: rule {rule_id!r} has both phrases and on; use one trigger")
    if "phrases" in raw and not raw["phrases"]:
        problems.append(f"{where('phrases')}: phrases is empty")
    when = tuple(g for g in (_alternatives(t, where, problems) for t in raw.get("when", [])) if g)
    for key in ("priority",):
        if key in raw and not 1 <= raw[key] <= 3:
            problems.append(f"{where(key)}: priority must be 1, 2 or 3")
    for key in ("cooldown", "ttl", "unless_within", "max_per_call"):
        if key in raw and raw[key] < 0:
            problems.append(f"{where(key)}: {key} must not be negative")
    after = _windows(raw.get("after", {}), "after", where, problems)
    not_after = _windows(raw.get("not_after", {}), "not_after", where, problems)
    extra: list[Rule] = []
    unless = _phrases(raw.get("unless_rep_said", []), "unless_rep_said", where, problems)
    if unless:
        # "the rep already did it" = a hidden marker rule on the rep's words, checked like not_after.
        marker = f"{rule_id}.rep_said"
        extra.append(Rule(id=marker, speaker="rep", phrases=unless, silent=True, cooldown=0,
                          max_per_call=1_000_000, source=where("unless_rep_said")))
        not_after += ((marker, float(raw.get("unless_within", 120))),)
    rule = Rule(
        id=rule_id, text=raw.get("text", ""), detail=raw.get("detail", ""),
        article=str(raw.get("article", "")), step=raw.get("step"),
        priority=raw.get("priority", 1), cooldown=float(raw.get("cooldown", 60)),
        max_per_call=raw.get("max_per_call", 2), ttl=float(raw.get("ttl", 8)),
        speaker=speaker, phrases=phrases, on=on if phrases or on else (TICK,), when=when,
        after=after, not_after=not_after, silent=silent, source=where(),
    )
    return [*extra, rule]


def _phrases(raw: list[Any], key: str, where: _Where, problems: list[str]) -> tuple[Phrase, ...]:
    out: list[Phrase] = []
    for item in raw:
        if not isinstance(item, str):
            problems.append(f"{where(key)}: {key} must be a list of strings, found {item!r}")
            continue
        try:
            out.append(parse_phrase(item))
        except ValueError as exc:
            problems.append(f"{where(key, needle=repr(item)[1:-1])}: {exc}")
    return tuple(out)


def _windows(raw: dict[str, Any], key: str, where: _Where, problems: list[str]) -> tuple[tuple[str, float], ...]:
    out: list[tuple[str, float]] = []
    for ref, seconds in raw.items():
        if not _is_number(seconds) or seconds <= 0:
            problems.append(f"{where(key)}: {key}.{ref} must be a positive number of seconds, not {seconds!r}")
        else:
            out.append((ref, float(seconds)))
    return tuple(out)


def _alternatives(text: Any, where: _Where, problems: list[str]) -> tuple[Condition, ...]:
    """One ``when`` entry: conditions joined by " or ", any of which may hold."""
    if not isinstance(text, str):
        problems.append(f"{where('when')}: conditions are strings like \"heat >= 2\", found {text!r}")
        return ()
    parts = [_condition(part, text, where, problems) for part in text.split(" or ")]
    return tuple(p for p in parts if p) if all(parts) else ()


def _condition(text: str, entry: str, where: _Where, problems: list[str]) -> Condition | None:
    match = _CONDITION.match(text)
    if not match:
        problems.append(f"{where('when', needle=entry)}: condition {text!r} is not "
                        "'<measurement> <op> <value>' (op: < <= > >= == !=)")
        return None
    name, op, raw_value = match.groups()
    value: float | bool | str
    if raw_value in ("true", "false"):
        value = raw_value == "true"
    else:
        try:
            value = float(raw_value)
        except ValueError:
            value = raw_value  # another measurement, checked with the references
    return Condition(name=name, op=op, value=value, text=text)


def _check_references(rule: Rule, raw: dict[str, Any], where: _Where, known: set[str], problems: list[str]) -> None:
    def check_ref(ref: str, key: str) -> None:
        if ref not in known:
            problems.append(f"{where(key)}: {key} refers to unknown rule or moment {ref!r}")

    for ref in rule.on:
        if ref != TICK:
            check_ref(ref, "on")
    for ref, _ in rule.after:
        check_ref(ref, "after")
    for ref, _ in rule.not_after:
        check_ref(ref, "not_after")
    for cond in (c for group in rule.when for c in group):
        names = [cond.name] + ([cond.value] if isinstance(cond.value, str) else [])
        for name in names:
            line = where("when", needle=cond.text)
            if name.startswith("since_"):
                if name[len("since_"):] not in known:
                    problems.append(f"{line}: {name!r} refers to unknown rule or moment {name[6:]!r}")
            elif name not in MEASUREMENTS:
                problems.append(f"{line}: unknown measurement {name!r} in {cond.text!r}")
        is_bool = cond.name in BOOLEAN_MEASUREMENTS
        if is_bool != isinstance(cond.value, bool) and not isinstance(cond.value, str):
            want = "true or false" if is_bool else "a number"
            problems.append(f"{where('when', needle=cond.text)}: {cond.name} compares with {want}")
        elif is_bool and cond.op not in ("==", "!="):
            problems.append(f"{where('when', needle=cond.text)}: {cond.name} is true/false: use == or !=")


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", list: "a list",
            dict: "a table like { id = 60 }", bool: "true or false"}.get(kind, kind.__name__)
