"""Match the prompts a call fired to the prompts its sidecar expects; precision, recall, latency.

Pure: prompts and windows in, counts out. Each expected window takes the earliest prompt of
its rule shown inside it (``start <= at <= end``); a prompt can satisfy one window only.
Every other prompt is *unexpected* — unless its rule is allowed for the call, or it repeats
a rule already matched in a window that covers it (a reminder, not a new alarm). A prompt
inside a ``must_not`` window is a *violation* (and unexpected). Latency is ``at -
trigger_end``: call audio captured when the prompt appeared minus the end of the words that
triggered it (prompts fired by a measurement have none), clipped to the scripted end of
the utterance when the sidecar has one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from assist.events import Prompt

from .fixtures import Fixture, Window


# Whisper stretches an utterance's last word into the silence after it (DESIGN.md): a
# trigger this close after the end of a scripted utterance is taken to end with it.
STRETCH = 2.0


@dataclass(frozen=True, slots=True)
class Fired:
    rule: str
    at: float
    trigger_end: float | None
    text: str = ""
    evidence: str = ""
    speaker: str | None = None

    @classmethod
    def from_prompt(cls, prompt: Prompt) -> Fired:
        return cls(prompt.rule, prompt.at, prompt.trigger_end, prompt.text, prompt.evidence, prompt.speaker)

    def true_to(self, fixture: Fixture) -> Fired:
        """The same prompt with its trigger end clipped to the end of the scripted utterance
        it fell in, when the sidecar knows one: latency from what was really said."""
        t = self.trigger_end
        if t is None or self.speaker is None:
            return self
        for u in fixture.utterances:
            if u.speaker == self.speaker and u.end < t <= u.end + STRETCH:
                return replace(self, trigger_end=u.end)
        return self

    @property
    def latency(self) -> float | None:
        """Seconds from the end of the triggering words to the prompt; None for a prompt fired
        by a measurement (silence, overlap, monologue length: ``trigger_end == at``), whose
        delay is the rule's own threshold, not the pipeline's."""
        if self.trigger_end is None or self.at - self.trigger_end < 1e-3:
            return None
        return self.at - self.trigger_end


@dataclass(frozen=True, slots=True)
class Outcome:
    window: Window
    hit: Fired | None


@dataclass
class RuleCounts:
    expected: int = 0
    fired: int = 0
    hits: int = 0
    unexpected: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.expected - self.hits

    def add(self, other: RuleCounts) -> None:
        self.expected += other.expected
        self.fired += other.fired
        self.hits += other.hits
        self.unexpected += other.unexpected
        self.latencies += other.latencies


def precision(hits: int, unexpected: int) -> float:
    """1.0 when nothing was judged (no prompt fired): no false alarms."""
    return hits / (hits + unexpected) if hits + unexpected else 1.0


def recall(hits: int, expected: int) -> float:
    return hits / expected if expected else 1.0


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


@dataclass
class FixtureScore:
    fixture: Fixture
    fired: list[Fired]
    outcomes: list[Outcome]
    unexpected: list[Fired]
    violations: list[tuple[Window, Fired]]
    tolerated: list[Fired]  # allowed rules and repeats: neither hits nor false alarms

    @property
    def hits(self) -> int:
        return sum(o.hit is not None for o in self.outcomes)

    @property
    def expected(self) -> int:
        return len(self.outcomes)

    @property
    def precision(self) -> float:
        return precision(self.hits, len(self.unexpected))

    @property
    def recall(self) -> float:
        return recall(self.hits, self.expected)

    @property
    def latencies(self) -> list[float]:
        """Latency of each expected prompt that appeared (the figure the goals are set on)."""
        return [o.hit.latency for o in self.outcomes if o.hit is not None and o.hit.latency is not None]

    def by_rule(self) -> dict[str, RuleCounts]:
        counts: dict[str, RuleCounts] = defaultdict(RuleCounts)
        for o in self.outcomes:
            c = counts[o.window.rule]
            c.expected += 1
            if o.hit is not None:
                c.hits += 1
                if o.hit.latency is not None:
                    c.latencies.append(o.hit.latency)
        for f in self.fired:
            counts[f.rule].fired += 1
        for f in self.unexpected:
            counts[f.rule].unexpected += 1
        return dict(sorted(counts.items()))

    def passed(self, min_recall: float = 1.0, min_precision: float = 1.0) -> bool:
        if not self.fixture.scored:
            return True
        return not self.violations and self.recall >= min_recall and self.precision >= min_precision


def score(fixture: Fixture, prompts: Iterable[Prompt | Fired]) -> FixtureScore:
    fired = sorted(((p if isinstance(p, Fired) else Fired.from_prompt(p)).true_to(fixture) for p in prompts),
                   key=lambda f: f.at)
    if not fixture.scored:
        return FixtureScore(fixture, fired, [], [], [], [])
    used: set[int] = set()
    outcomes = []
    for window in sorted(fixture.expect, key=lambda w: (w.start, w.end)):
        hit = next((i for i, f in enumerate(fired) if i not in used and window.covers(f.rule, f.at)), None)
        if hit is not None:
            used.add(hit)
        outcomes.append(Outcome(window, fired[hit] if hit is not None else None))
    matched_windows = [o.window for o in outcomes if o.hit is not None]
    unexpected, violations, tolerated = [], [], []
    for i, f in enumerate(fired):
        bad = [w for w in fixture.must_not if w.covers(f.rule, f.at)]
        violations += [(w, f) for w in bad]
        if i in used:
            continue
        if not bad and (f.rule in fixture.allow or any(w.covers(f.rule, f.at) for w in matched_windows)):
            tolerated.append(f)
        else:
            unexpected.append(f)
    return FixtureScore(fixture, fired, outcomes, unexpected, violations, tolerated)


@dataclass
class Summary:
    scores: list[FixtureScore]

    @property
    def judged(self) -> list[FixtureScore]:
        return [s for s in self.scores if s.fixture.scored]

    def totals(self) -> RuleCounts:
        total = RuleCounts()
        for counts in self.by_rule().values():
            total.add(counts)
        return total

    def by_rule(self) -> dict[str, RuleCounts]:
        counts: dict[str, RuleCounts] = defaultdict(RuleCounts)
        for s in self.judged:
            for rule, c in s.by_rule().items():
                counts[rule].add(c)
        return dict(sorted(counts.items()))

    @property
    def precision(self) -> float:
        t = self.totals()
        return precision(t.hits, t.unexpected)

    @property
    def recall(self) -> float:
        t = self.totals()
        return recall(t.hits, t.expected)

    @property
    def violations(self) -> int:
        return sum(len(s.violations) for s in self.judged)

    def latency(self, q: float) -> float | None:
        return percentile(self.totals().latencies, q)


def summarize(scores: list[FixtureScore]) -> Summary:
    return Summary(scores)


def finite(value: float) -> float | None:
    """JSON has no infinity: an open-ended window ends at null."""
    return None if math.isinf(value) else value


__all__ = ["Fired", "FixtureScore", "Outcome", "RuleCounts", "Summary", "finite", "percentile",
           "precision", "recall", "score", "summarize"]
