"""The eval report: a plain-text table for people, a JSON document for machines."""

from __future__ import annotations

from typing import Any

from .scoring import FixtureScore, RuleCounts, Summary, finite, percentile, precision, recall


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _row(cells: list[str], widths: list[int]) -> str:
    first, *rest = cells
    return "  ".join([first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:]))]).rstrip()


HEADER = ["", "expected", "fired", "hit", "missed", "unexpected", "precision", "recall", "lat p50", "lat p95"]


def _counts_row(name: str, c: RuleCounts) -> list[str]:
    return [name, str(c.expected), str(c.fired), str(c.hits), str(c.missed), str(c.unexpected),
            _pct(precision(c.hits, c.unexpected)), _pct(recall(c.hits, c.expected)),
            _secs(percentile(c.latencies, 50)), _secs(percentile(c.latencies, 95))]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return [_row(r, widths) for r in rows]


def _fired_line(f, verdict: str) -> str:
    lat = "" if f.latency is None else f"  latency {f.latency:.2f} s"
    return f"    {f.at:7.2f} s  {f.rule:<20} {verdict}{lat}  ({f.evidence})"


def fixture_text(s: FixtureScore, min_recall: float, min_precision: float) -> list[str]:
    fx = s.fixture
    if not fx.scored:
        lines = [f"{fx.name}  (no sidecar: prompts listed, not scored)"]
        lines += [_fired_line(f, "fired") for f in s.fired] or ["    no prompts"]
        return lines
    verdict = "ok" if s.passed(min_recall, min_precision) else "FAIL"
    lines = [f"{fx.name}  {verdict}  {fx.title}"]
    lines += ["  " + r for r in _table([HEADER] + [_counts_row(rule, c) for rule, c in s.by_rule().items()])]
    for o in s.outcomes:
        if o.hit is None:
            w = o.window
            lines.append(f"    missed {w.rule} (window {w.start:.2f}–{w.end:.2f} s, {w.note or w.line})")
    hits = {id(o.hit) for o in s.outcomes if o.hit is not None}
    unexpected = {id(f) for f in s.unexpected}
    for f in s.fired:
        kind = "hit" if id(f) in hits else "UNEXPECTED" if id(f) in unexpected else "tolerated"
        if kind != "hit":
            lines.append(_fired_line(f, kind))
    for w, f in s.violations:
        lines.append(f"    must not: {f.rule} at {f.at:.2f} s ({w.note or 'forbidden here'})")
    return lines


def text_report(summary: Summary, min_recall: float, min_precision: float) -> str:
    lines: list[str] = []
    for s in summary.scores:
        lines += fixture_text(s, min_recall, min_precision) + [""]
    if summary.judged:
        rows = [HEADER] + [_counts_row(rule, c) for rule, c in summary.by_rule().items()]
        rows.append(_counts_row("ALL", summary.totals()))
        lines.append(f"All fixtures, per rule ({len(summary.judged)} scored calls):")
        lines += ["  " + r for r in _table(rows)]
        failed = [s.fixture.name for s in summary.judged if not s.passed(min_recall, min_precision)]
        lines.append(f"precision {summary.precision:.2f}  recall {summary.recall:.2f}  "
                     f"must-not violations {summary.violations}  prompt latency p50 "
                     f"{_secs(summary.latency(50))} s p95 {_secs(summary.latency(95))} s  "
                     + (f"FAILED: {', '.join(failed)}" if failed else "all fixtures met their expectations"))
    return "\n".join(lines)


def _fired_json(f) -> dict[str, Any]:
    return {"rule": f.rule, "at": f.at, "trigger_end": f.trigger_end, "latency": f.latency,
            "text": f.text, "evidence": f.evidence}


def _counts_json(c: RuleCounts) -> dict[str, Any]:
    return {"expected": c.expected, "fired": c.fired, "hit": c.hits, "missed": c.missed,
            "unexpected": c.unexpected, "precision": precision(c.hits, c.unexpected),
            "recall": recall(c.hits, c.expected), "latency_p50": percentile(c.latencies, 50),
            "latency_p95": percentile(c.latencies, 95)}


def fixture_json(s: FixtureScore, min_recall: float, min_precision: float) -> dict[str, Any]:
    fx = s.fixture
    out: dict[str, Any] = {"name": fx.name, "audio": str(fx.audio), "scored": fx.scored,
                           "fired": [_fired_json(f) for f in s.fired]}
    if not fx.scored:
        return out
    out.update({
        "title": fx.title,
        "passed": s.passed(min_recall, min_precision),
        "precision": s.precision,
        "recall": s.recall,
        "expected": [{"rule": o.window.rule, "start": o.window.start, "end": finite(o.window.end),
                      "line": o.window.line, "hit": None if o.hit is None else _fired_json(o.hit)}
                     for o in s.outcomes],
        "unexpected": [_fired_json(f) for f in s.unexpected],
        "tolerated": [_fired_json(f) for f in s.tolerated],
        "violations": [{"rule": w.rule, "start": w.start, "end": finite(w.end), "note": w.note,
                        "fired": _fired_json(f)} for w, f in s.violations],
        "rules": {rule: _counts_json(c) for rule, c in s.by_rule().items()},
    })
    return out


def json_report(summary: Summary, min_recall: float, min_precision: float) -> dict[str, Any]:
    return {
        "thresholds": {"min_recall": min_recall, "min_precision": min_precision},
        "fixtures": [fixture_json(s, min_recall, min_precision) for s in summary.scores],
        "rules": {rule: _counts_json(c) for rule, c in summary.by_rule().items()},
        "total": {**_counts_json(summary.totals()), "violations": summary.violations},
        "passed": all(s.passed(min_recall, min_precision) for s in summary.judged),
    }


__all__ = ["fixture_json", "fixture_text", "json_report", "text_report"]
