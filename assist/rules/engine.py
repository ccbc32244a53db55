"""The rule engine: events in, prompts out. Pure — no threads, no I/O, no clock.

Each event updates the conversation state, then only the rules it can concern are tried:
phrase rules on the speaker's new words (found through the phrase index, not by scanning
every rule), ``on = <moment or rule>`` rules when that happens, condition-only rules on
ticks.

Phrase rules also look at the transcriber's current guess (``Partial``): a phrase in it that
more speech already follows (not in its last word, which may be cut off) fires then, without
waiting for the words to commit — a second or more sooner when the transcriber is busy. The
same utterance of the phrase does not fire again when its words commit.

A rule that fires (even a silent one) is recorded, which is what ``after``, ``not_after``,
``since_<id>`` and ``on = <rule>`` look at.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assist.events import CallEnd, Dismiss, Event, Partial, Prompt, Tick, Word

from .loader import TICK, Condition, Rule, RulePack
from .matching import Match, PhraseIndex, TokenStream
from .state import EVIDENCE, ConversationState, Moment, StateSnapshot

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True, slots=True)
class _Trigger:
    """Why a rule is being tried: the words or measurement, for the prompt's evidence."""

    speaker: str | None
    time: float  # trigger_end
    evidence: str
    at: float | None = None  # the moment conditions are dated at (a phrase's start)


class Engine:
    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        heat_index = PhraseIndex()
        weights: dict[str, float] = {}
        for i, (phrase, weight) in enumerate(pack.heat):
            heat_index.add(f"heat{i}", phrase)
            weights[f"heat{i}"] = weight
        self._state = ConversationState(pack.settings, heat_index, weights)
        self._streams = {s: TokenStream() for s in ("rep", "customer", "unknown")}
        self._indexes: dict[str, PhraseIndex] = {s: PhraseIndex() for s in ("rep", "customer", "any")}
        self._by_on: dict[str, list[Rule]] = defaultdict(list)
        self._rules = {r.id: r for r in pack.rules}
        for rule in pack.rules:
            for phrase in rule.phrases:
                self._indexes[rule.speaker].add(rule.id, phrase)
            for name in rule.on:
                self._by_on[name].append(rule)
        self._happened: dict[str, float] = {}  # rule, marker or moment -> last time
        self._fired_count: dict[str, int] = defaultdict(int)
        self._last_fired: dict[str, float] = {}
        self._stages: dict[str, tuple[int, str]] = {}
        self._values: dict[str, float | bool] | None = None  # measured once per event
        # (speaker, rule) -> start of the phrase that fired from a guess, so its commit does
        # not fire it again
        self._guessed: dict[tuple[str, str], float] = {}

    @property
    def state(self) -> StateSnapshot:
        return self._state.snapshot(self._stages)

    def coach(self, events: Iterable[Event]) -> Iterator[Event]:
        """The events with the prompts they fire merged in, each right after its trigger."""
        for event in events:
            yield event
            yield from self.feed(event)

    def feed(self, event: Event) -> list[Prompt]:
        """Apply one event; returns the prompts it fires (often none)."""
        if isinstance(event, Prompt):  # our own output fed back
            return []
        self._values = None
        if isinstance(event, Dismiss):
            # The rep acted on it: restart its cooldown.
            self._last_fired[event.rule] = max(self._last_fired.get(event.rule, -math.inf), event.at)
            self._state.now = max(self._state.now, event.at)
            return []
        stream, new_tokens = None, 0
        if isinstance(event, Word):
            stream = self._streams.get(event.speaker)
            if stream is not None:
                new_tokens = stream.push(event.text, event.start, event.end)
        moments = self._state.update(event, stream, new_tokens)
        out: list[Prompt] = []
        for moment in moments:
            self._happened[moment.name] = moment.time
            self._try_all(self._by_on.get(moment.name, ()), self._moment_trigger(moment), out)
        if isinstance(event, Word) and stream is not None and new_tokens:
            for match in self._phrases(event.speaker, stream, new_tokens):
                if self._fired_from_guess(event.speaker, match):
                    self._guessed.pop((event.speaker, match.key))
                    continue  # this utterance of it already fired from the guess
                self._fire_phrase(event.speaker, match, out)
        elif isinstance(event, Partial):
            self._match_guess(event, out)
        elif isinstance(event, Tick):
            now = self._state.now
            self._try_all(self._by_on.get(TICK, ()), _Trigger(None, now, ""), out)
        elif isinstance(event, CallEnd):
            self._try_all(self._by_on.get("call_end", ()), _Trigger(None, self._state.now, "call ended"), out)
        return out

    # -- phrases --------------------------------------------------------------------------
    def _phrases(self, speaker: str, stream: TokenStream, new_tokens: int, remember: bool = True) -> list[Match]:
        indexes = [self._indexes["any"]]
        if speaker in ("rep", "customer"):
            indexes.insert(0, self._indexes[speaker])
        return [m for index in indexes for m in index.match_new(stream, new_tokens, remember)]

    def _fire_phrase(self, speaker: str, match: Match, out: list[Prompt]) -> bool:
        before = self._fired_count[match.key]
        trigger = _Trigger(speaker, match.end, f'{speaker} said "{match.said}"', at=match.start)
        self._try(self._rules[match.key], trigger, out)
        return self._fired_count[match.key] > before

    def _match_guess(self, event: Partial, out: list[Prompt]) -> None:
        """Phrase rules on the guess, all but its last word, after the committed words."""
        stream = self._streams.get(event.speaker)
        if stream is None or len(event.words) < 2:
            return
        scratch = stream.fork()
        new_tokens = sum(scratch.push(w.text, w.start, w.end) for w in event.words[:-1])
        for match in self._phrases(event.speaker, scratch, new_tokens, remember=False):
            if self._fired_from_guess(event.speaker, match):
                continue  # fired from an earlier guess already
            if self._fire_phrase(event.speaker, match, out):
                self._guessed[(event.speaker, match.key)] = match.start

    def _fired_from_guess(self, speaker: str, match: Match) -> bool:
        """This utterance of the phrase (starting within 1 s of it) fired from a guess."""
        return abs(self._guessed.get((speaker, match.key), -math.inf) - match.start) < 1.0

    # -- firing ---------------------------------------------------------------------------
    def _try_all(self, rules, trigger: _Trigger, out: list[Prompt]) -> None:
        for rule in rules:
            self._try(rule, trigger, out)

    def _try(self, rule: Rule, trigger: _Trigger, out: list[Prompt], depth: int = 0) -> None:
        now = self._state.now
        if self._fired_count[rule.id] >= rule.max_per_call:
            return
        if now - self._last_fired.get(rule.id, -math.inf) < rule.cooldown:
            return
        for ref, window in rule.after:
            if now - self._happened.get(ref, -math.inf) > window:
                return
        for ref, window in rule.not_after:
            if now - self._happened.get(ref, -math.inf) <= window:
                return
        measured = self._check(rule.when, trigger.at)
        if measured is None:
            return
        self._fired_count[rule.id] += 1
        self._last_fired[rule.id] = now
        self._happened[rule.id] = now
        if rule.step is not None and rule.step > self._stages.get(rule.article, (0, ""))[0]:
            self._stages[rule.article] = (rule.step, rule.id)
        evidence = "; ".join(e for e in (trigger.evidence, measured) if e)
        if not rule.silent:
            out.append(Prompt(
                at=now, rule=rule.id, text=rule.text, detail=rule.detail, article=rule.article,
                priority=rule.priority, evidence=evidence, trigger_end=trigger.time,
                speaker=trigger.speaker, ttl=rule.ttl,  # type: ignore[arg-type]
            ))
        if depth < 4:  # rules that fire on this one; depth bounds a chain of "on" references
            chained = _Trigger(trigger.speaker, trigger.time, evidence, trigger.at)
            for follower in self._by_on.get(rule.id, ()):
                self._try(follower, chained, out, depth + 1)

    def _check(self, conditions: tuple[tuple[Condition, ...], ...], at: float | None) -> str | None:
        """None if a condition group fails, else the measurements that held, as evidence."""
        if not conditions:
            return ""
        if at is not None:  # dated at a phrase: measured for this rule alone
            values = self._state.values(at)
        else:
            if self._values is None:
                self._values = self._state.values()
            values = self._values
        shown: list[str] = []
        for group in conditions:
            for cond in group:
                left = self._measure(cond.name, values)
                right = self._measure(cond.value, values) if isinstance(cond.value, str) else cond.value
                if _OPS[cond.op](left, right):
                    shown += [_say(name, value) for name, value in ((cond.name, left), (cond.value, right))
                              if isinstance(name, str) and not isinstance(value, bool)]
                    break
            else:
                return None
        return ", ".join(shown)

    def _measure(self, name: str, values: dict[str, float | bool]) -> float | bool:
        if name.startswith("since_"):
            return self._state.now - self._happened.get(name[6:], -math.inf)
        return values[name]

    @staticmethod
    def _moment_trigger(moment: Moment) -> _Trigger:
        return _Trigger(moment.speaker, moment.time, moment.evidence)


def _say(name: str, value: float) -> str:
    """A measured value as the rep reads it in a prompt's evidence ("customer quiet 1.2 s")."""
    if name.startswith("since_"):
        what = name[6:].replace("_", " ")
        return f"no {what} yet" if math.isinf(value) else f"{_seconds(value)} since {what}"
    return EVIDENCE[name].format(s=_seconds(value), pct=f"{value:.0%}", n=_fmt(value), v=_fmt(value))


def _seconds(value: float) -> str:
    if math.isinf(value):
        return "since the start"
    return f"{value:.1f} s" if abs(value) < 10 else f"{value:.0f} s"


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "never" if value > 0 else "-inf"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
