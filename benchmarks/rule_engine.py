"""Rule-engine cost per event: the playbook and 200 generated rules, against a naive baseline.

    python benchmarks/rule_engine.py [--minutes 10] [--baseline-events 1000]

The call is scripted from the seed articles (both sides take turns reading them, ~170
words a minute, VAD start/end per turn, a Tick every 0.25 s): a 1-hour call is ~20 000
events. The naive baseline is what the engine avoids: on every event, re-match every
rule's phrases against each side's whole transcript so far (one regex per rule).
Goal: <= 0.5 ms per event. Timings are wall clock on a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from assist.events import Event, SpeechEnd, SpeechStart, Tick, Word
from assist.rules import Engine, RulePack, default_rules_dir, load_pack
from assist.text import canonical_tokens

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
GOAL_MS = 0.5


def scripted_call(minutes: float) -> list[Event]:
    words = [w for f in sorted(SEEDS.glob("*.txt")) for w in f.read_text().split()]
    rng = random.Random(7)
    events: list[Event] = []
    t, i, speaker = 0.5, 0, "customer"
    while t < minutes * 60:
        n = rng.randint(5, 60)
        start = t
        events.append(SpeechStart(at=start + 0.25, speaker=speaker, start=start))
        for w in words[i:i + n]:
            events.append(Word(at=t + 0.9, speaker=speaker, text=" " + w, start=t, end=t + 0.35))
            t += 0.35
        events.append(SpeechEnd(at=t + 0.25, speaker=speaker, start=start, end=t))
        i = (i + n) % (len(words) - 60)
        t += rng.uniform(0.1, 1.5)
        speaker = "rep" if speaker == "customer" else "customer"
    ticks = [Tick(at=k * 0.25) for k in range(1, int(t / 0.25) + 1)]
    return sorted(events + ticks, key=lambda e: (e.at, isinstance(e, Tick)))


def generated_pack(n: int, directory: Path) -> RulePack:
    """The playbook plus ``n`` rules: phrase rules from the seeds' vocabulary, condition rules."""
    vocab = sorted({t for f in SEEDS.glob("*.txt") for t in canonical_tokens(f.read_text()) if len(t) > 3})
    rng = random.Random(3)
    lines: list[str] = []
    for k in range(n):
        lines += ["[[rule]]", f'id = "gen{k}"', f'text = "generated {k}"', 'article = "gen"']
        if k % 4 == 3:
            lines += [f'when = ["rep_monologue >= {30 + k % 40}", "heat >= {k % 3}"]']
        else:
            phrases = [" ".join(rng.sample(vocab, rng.randint(1, 3))) for _ in range(5)]
            lines += [f'speaker = "{"rep" if k % 2 else "customer"}"',
                      "phrases = [" + ", ".join(f'"{p}"' for p in phrases) + "]"]
        lines.append("")
    (directory / "generated.toml").write_text("\n".join(lines))
    return load_pack([default_rules_dir(), directory])


class NaiveEngine:
    """Baseline: every event re-scans each side's whole transcript with every phrase rule."""

    def __init__(self, pack: RulePack) -> None:
        self.rules = [(r, re.compile(r"\b(" + "|".join(" ".join(p.tokens) for p in r.phrases) + r")\b"))
                      for r in pack.rules if r.phrases]
        self.text = {"rep": "", "customer": "", "unknown": ""}
        self.seen: set[tuple[str, int]] = set()

    def feed(self, event: Event) -> list[str]:
        if isinstance(event, Word):
            self.text[event.speaker] += " " + " ".join(canonical_tokens(event.text))
        out = []
        for rule, pattern in self.rules:
            for m in pattern.finditer(self.text.get(rule.speaker, "")):
                if (rule.id, m.start()) not in self.seen:
                    self.seen.add((rule.id, m.start()))
                    out.append(rule.id)
        return out


def per_event_ms(engine, events: list[Event]) -> tuple[float, float, int]:
    """Mean and 99th-percentile ms per event, and the prompts fired."""
    costs, fired = [], 0
    for event in events:
        t0 = time.perf_counter()
        fired += len(engine.feed(event))
        costs.append(time.perf_counter() - t0)
    costs.sort()
    return 1000 * sum(costs) / len(costs), 1000 * costs[int(len(costs) * 0.99)], fired


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the scripted call")
    parser.add_argument("--baseline-events", type=int, default=1000,
                        help="events the naive baseline runs (it is slow; the first N)")
    args = parser.parse_args()
    events = scripted_call(args.minutes)
    playbook = load_pack([default_rules_dir()])
    with tempfile.TemporaryDirectory() as tmp:
        big = generated_pack(200, Path(tmp))
    print(f"scripted call: {args.minutes:g} min, {len(events)} events "
          f"({sum(isinstance(e, Word) for e in events)} words); goal <= {GOAL_MS} ms/event")
    print(f"{'engine':<34}{'rules':>6}{'events':>8}{'mean ms':>10}{'p99 ms':>9}{'prompts':>9}")
    rows = [
        ("indexed engine, playbook", Engine(playbook), playbook, events),
        ("indexed engine, playbook + 200", Engine(big), big, events),
        ("naive re-scan, playbook + 200", NaiveEngine(big), big, events[: args.baseline_events]),
    ]
    worst = 0.0
    for name, engine, pack, evs in rows:
        mean, p99, fired = per_event_ms(engine, evs)
        if isinstance(engine, Engine):
            worst = max(worst, mean)
        print(f"{name:<34}{len(pack.rules):>6}{len(evs):>8}{mean:>10.4f}{p99:>9.4f}{fired:>9}")
    print(f"{'PASS' if worst <= GOAL_MS else 'FAIL'}: worst mean {worst:.4f} ms/event (goal {GOAL_MS})")
    return 0 if worst <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
