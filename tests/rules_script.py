"""Scripted conversations for the rule-engine tests: turns of text become timed events."""

from __future__ import annotations

from dataclasses import dataclass, field

from assist.events import Event, SpeechEnd, SpeechStart, Tick, Word
from assist.rules import Engine, default_rules_dir, load_pack

WORD_SECONDS = 0.35  # speaking rate of the script (about 170 words a minute)
COMMIT_DELAY = 0.5  # a word is committed this long after it ends, as the transcriber does


@dataclass
class Script:
    """Build a call turn by turn; times advance by themselves unless given."""

    events: list[Event] = field(default_factory=list)
    now: float = 0.0

    def say(self, speaker: str, text: str, at: float | None = None, pause: float = 0.6) -> Script:
        """``speaker`` says ``text`` starting at ``at`` (default: ``pause`` after the last turn)."""
        start = self.now + pause if at is None else at
        t = start
        self.events.append(SpeechStart(at=start + 0.25, speaker=speaker, start=start))
        for word in text.split():
            self.events.append(Word(at=t + WORD_SECONDS + COMMIT_DELAY, speaker=speaker,
                                    text=" " + word, start=t, end=t + WORD_SECONDS))
            t += WORD_SECONDS
        self.events.append(SpeechEnd(at=t + 0.25, speaker=speaker, start=start, end=t))
        self.now = max(self.now, t)
        return self

    def silence(self, seconds: float) -> Script:
        self.now += seconds
        return self

    def timeline(self, until: float | None = None) -> list[Event]:
        """The events in order of ``at``, with a Tick every 0.25 s up to ``until``."""
        end = (self.now + 3.0) if until is None else until
        ticks = [Tick(at=i * 0.25) for i in range(1, int(end / 0.25) + 1)]
        # Ticks sort after other events of the same instant: the pipeline emits them last.
        return sorted(self.events + ticks, key=lambda e: (e.at, isinstance(e, Tick)))


def run(script: Script, until: float | None = None, engine: Engine | None = None):
    """Feed the script to an engine with the repository's playbook; returns (prompts, engine)."""
    engine = engine or Engine(load_pack([default_rules_dir()]))
    prompts = [p for event in script.timeline(until) for p in engine.feed(event)]
    return prompts, engine


def fired(prompts) -> list[str]:
    return [p.rule for p in prompts]


def sidecar_events(sidecar: dict) -> list[Event]:
    """A recorded-call fixture's script (its JSON sidecar) as events, without the audio:
    each utterance's words spread evenly over its measured start..end."""
    events: list[Event] = []
    for u in sidecar["utterances"]:
        words = u["text"].split()
        step = (u["end"] - u["start"]) / max(1, len(words))
        events.append(SpeechStart(at=u["start"] + 0.25, speaker=u["speaker"], start=u["start"]))
        for i, word in enumerate(words):
            t = u["start"] + i * step
            events.append(Word(at=t + step + COMMIT_DELAY, speaker=u["speaker"], text=" " + word,
                               start=t, end=t + step))
        events.append(SpeechEnd(at=u["end"] + 0.25, speaker=u["speaker"], start=u["start"], end=u["end"]))
    ticks = [Tick(at=k * 0.25) for k in range(1, int((sidecar["duration"] + 2) / 0.25))]
    return sorted(events + ticks, key=lambda e: (e.at, isinstance(e, Tick)))
