"""The event stream: the one contract between audio, transcription, rules and every output.

All times are seconds of call audio. ``at`` is how much call audio had been captured when
the event was emitted, so a word's latency is ``at - end``. Events are immutable and
serialise to one flat JSON object each (``--jsonl``, the session log, eval).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal

Speaker = Literal["rep", "customer", "unknown"]
SPEAKERS: tuple[Speaker, ...] = ("rep", "customer", "unknown")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStart(Event):
    """Voice activity began on one channel (a turn starts)."""

    type: ClassVar[str] = "speech_start"
    speaker: Speaker
    start: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechEnd(Event):
    """Voice activity ended on one channel: ``end`` is the last voiced moment."""

    type: ClassVar[str] = "speech_end"
    speaker: Speaker
    start: float
    end: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Word(Event):
    """A committed word: stable, never retracted, emitted in order per speaker."""

    type: ClassVar[str] = "word"
    speaker: Speaker
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class WordGuess:
    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Partial(Event):
    """The current guess for the uncommitted rest of the utterance in progress.

    Each Partial replaces the previous one of the same speaker; an empty one clears it.
    """

    type: ClassVar[str] = "partial"
    speaker: Speaker
    words: tuple[WordGuess, ...] = ()

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()

    @property
    def start(self) -> float | None:
        return self.words[0].start if self.words else None

    @property
    def end(self) -> float | None:
        return self.words[-1].end if self.words else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick(Event):
    """Call time advanced with nothing else to say; lets silence-based rules fire."""

    type: ClassVar[str] = "tick"


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt(Event):
    """A coaching prompt, with everything the overlay needs to explain itself."""

    type: ClassVar[str] = "prompt"
    rule: str
    text: str
    detail: str = ""
    article: str = ""
    priority: int = 1
    evidence: str = ""
    # End (call audio seconds) of the word or measurement that fired it; latency = at - this.
    trigger_end: float | None = None
    speaker: Speaker | None = None
    ttl: float = 8.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Dismiss(Event):
    """The rep dismissed a prompt."""

    type: ClassVar[str] = "dismiss"
    rule: str


NoticeKind = Literal[
    "device_lost", "device_back", "overflow", "behind", "caught_up", "recording", "info"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Event):
    """Something the rep should know about the capture itself (not the call)."""

    type: ClassVar[str] = "notice"
    kind: str
    message: str
    speaker: Speaker | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnd(Event):
    """The call is over (end of file, quit, Ctrl-C)."""

    type: ClassVar[str] = "call_end"
    reason: str = "end"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (SpeechStart, SpeechEnd, Word, Partial, Tick, Prompt, Dismiss, Notice, CallEnd)
}


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def to_dict(event: Event) -> dict[str, Any]:
    """One flat JSON-ready dict; ``type`` first."""
    out: dict[str, Any] = {"type": event.type}
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name == "words":
            value = [{k: _round(v) for k, v in asdict(w).items()} for w in value]
        out[f.name] = _round(value)
    if isinstance(event, Partial):
        out["text"], out["start"], out["end"] = event.text, _round(event.start), _round(event.end)
    return out


def from_dict(data: dict[str, Any]) -> Event:
    """Inverse of :func:`to_dict`; raises ValueError naming what is wrong."""
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    names = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if cls is Partial:
        kwargs["words"] = tuple(WordGuess(**w) for w in data.get("words", ()))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad {kind} event: {exc}") from None


__all__ = [
    "SPEAKERS",
    "CallEnd",
    "Dismiss",
    "EVENT_TYPES",
    "Event",
    "Notice",
    "Partial",
    "Prompt",
    "Speaker",
    "SpeechEnd",
    "SpeechStart",
    "Tick",
    "Word",
    "WordGuess",
    "from_dict",
    "to_dict",
]
