"""Turn-taking figures of a call and the end-of-call scorecard, computed from events alone.

:class:`CallStats` is fed events one at a time (pure, no I/O) and answers both the overlay's
live meters and the scorecard, so the two can never disagree. What the rule engine's
conversation state already measures (talk time and share, the floor's monologue, heat,
interruptions, questions, where the call stands in a sequence) is read from a state-only
:class:`~assist.rules.Engine` fed the same events; this module adds what the state does not
keep: the longest stretches of each side, every pause before the rep answers, and whether
the rep acted on each prompt.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assist.errors import AssistError
from assist.events import CallEnd, Dismiss, Event, Prompt, SpeechEnd, SpeechStart, Word

if TYPE_CHECKING:
    from assist.rules import Engine, RulePack, StateSnapshot

# Same-speaker speech separated by less than this, with nobody else speaking in between, is
# one monologue (VAD splits a turn at every breath).
MERGE_GAP = 1.5


@dataclass(frozen=True, slots=True)
class FollowCheck:
    """How to tell whether the rep acted on a prompt: ``kind`` within ``window`` seconds."""

    kind: str  # "stop_talking" | "ask" | "say" | "speak" | "wait"
    window: float
    pattern: str = ""  # for "say": a regex over the rep's words
    label: str = ""  # what the scorecard says was checked
    alternative: FollowCheck | None = None  # another way to follow the prompt: either counts


_STOP = FollowCheck("stop_talking", 2.0, label="you stopped talking within 2 s")
_ASK = FollowCheck("ask", 20.0, label="you asked a question within 20 s")
FOLLOW_CHECKS: dict[str, FollowCheck] = {
    **{rule: _STOP for rule in (
        "let_them_finish", "monologue", "give_space", "fall_back", "listen_dont_defend",
        "too_soon", "talk_share",
    )},
    # Acknowledging the feeling is empathizing too, not only falling silent.
    "empathize": FollowCheck(
        "say", 10.0, r"\b(sorry|oh no|understand|hear you|must be|sounds (hard|tough|awful|rough)|that'?s (hard|tough|awful|rough))",
        "you acknowledged it or let them talk", alternative=_STOP,
    ),
    **{rule: _ASK for rule in (
        "clarify", "ask_what_else", "ask_their_solution", "in_my_shoes", "ask_directly",
        "requalify", "verify_promise",
    )},
    "apologise": FollowCheck("say", 20.0, r"\b(sorry|apologi[sz]e)", "you apologised within 20 s"),
    "follow_up": FollowCheck(
        "say", 30.0, r"\b(follow|get back|call you|email)", "you set a follow-up within 30 s"
    ),
    "proceed": FollowCheck("speak", 10.0, label="you moved on within 10 s"),
    "answer_too_fast": FollowCheck("wait", 60.0, label="your next answer waited ≥ 1 s"),
}
ANSWER_WAIT = 1.0


@dataclass(slots=True)
class _Run:
    """One speaker's stretch of talk (merged VAD segments)."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class PromptOutcome:
    at: float
    rule: str
    text: str
    check: str  # what was checked, "" if no check is known for the rule
    followed: bool | None  # None: unknown rule, or the window had not closed by the end
    dismissed: bool = False


@dataclass(frozen=True, slots=True)
class Scorecard:
    duration: float
    rep_talk: float
    customer_talk: float
    rep_share: float | None  # rep talk / both sides' talk; None if nobody spoke
    longest_monologue: float  # rep
    longest_story: float  # customer
    rep_interruptions: int  # rep started over the customer
    customer_interruptions: int
    answer_pause_median: float | None
    answer_pauses: int
    questions: int
    prompts: tuple[PromptOutcome, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def _default_pack() -> RulePack:
    from assist.rules import default_rules_dir, load_pack

    return load_pack([default_rules_dir()])


def state_engine() -> Engine:
    """A rule engine on the default pack, used for its conversation state only."""
    from assist.rules import Engine

    return Engine(_default_pack())


@dataclass
class CallStats:
    """Conversation figures built up event by event."""

    engine: Engine = field(default_factory=state_engine)
    now: float = 0.0
    ended: bool = False  # the call is over: every prompt's window is closed
    _active: dict[str, float] = field(default_factory=dict)  # speaker -> segment start
    _runs: dict[str, list[_Run]] = field(default_factory=dict)
    _last_speaker: str | None = None  # whose segment ended or started most recently
    _last_end: dict[str, float] = field(default_factory=dict)
    _last_start: dict[str, float] = field(default_factory=dict)
    _answers: list[tuple[float, float]] = field(default_factory=list)  # (rep start, pause)
    _rep_words: list[Word] = field(default_factory=list)
    _prompts: list[Prompt] = field(default_factory=list)
    _dismissed: set[tuple[str, float]] = field(default_factory=set)

    def feed(self, event: Event) -> None:
        self.now = max(self.now, event.at)
        self.engine.feed(event)  # its prompts are already in the stream: only its state is used
        if isinstance(event, SpeechStart):
            self._speech_start(event.speaker, event.start)
        elif isinstance(event, SpeechEnd):
            if event.speaker not in self._active:  # a start we never saw
                self._speech_start(event.speaker, event.start)
            self._speech_end(event.speaker, event.end)
        elif isinstance(event, Word) and event.speaker == "rep":
            self._rep_words.append(event)
        elif isinstance(event, Prompt):
            self._prompts.append(event)
        elif isinstance(event, CallEnd):
            self.ended = True
        elif isinstance(event, Dismiss):
            # Every prompt of that rule still up at the moment (a rule may repeat itself).
            self._dismissed.update(
                (p.rule, p.at)
                for p in self._prompts
                if p.rule == event.rule and p.at <= event.at <= p.at + p.ttl
            )

    # --- turn-taking bookkeeping -------------------------------------------------------
    def _speech_start(self, speaker: str, start: float) -> None:
        others = {s: t for s, t in self._active.items() if s != speaker}
        if (
            speaker == "rep"
            and not others
            and self._last_speaker == "customer"
            and "customer" in self._last_end
        ):
            self._answers.append((start, max(0.0, start - self._last_end["customer"])))
        runs = self._runs.setdefault(speaker, [])
        others_since = any(
            s != speaker and t >= runs[-1].start for s, t in self._last_start.items()
        ) if runs else True
        if runs and not others_since and start - runs[-1].end < MERGE_GAP:
            runs[-1].end = max(runs[-1].end, start)  # the same monologue goes on
        else:
            runs.append(_Run(start, start))
        self._active[speaker] = start
        self._last_start[speaker] = start
        self._last_speaker = speaker

    def _speech_end(self, speaker: str, end: float) -> None:
        del self._active[speaker]
        self._runs[speaker][-1].end = max(self._runs[speaker][-1].end, end)
        self._last_end[speaker] = end
        if not self._active:
            self._last_speaker = speaker

    def dismissed(self, prompt: Prompt) -> bool:
        return (prompt.rule, prompt.at) in self._dismissed

    # --- live figures --------------------------------------------------------------------
    @property
    def state(self) -> StateSnapshot:
        return self.engine.state

    def longest_run(self, speaker: str) -> float:
        runs = self._runs.get(speaker, [])
        lengths = [r.end - r.start for r in runs]
        if speaker in self._active and runs:
            lengths[-1] = max(lengths[-1], self.now - runs[-1].start)
        return max(lengths, default=0.0)

    # --- prompts ---------------------------------------------------------------------------
    def outcome(self, prompt: Prompt) -> bool | None:
        """Did the rep act on ``prompt``? None while its window is open or if no check is known."""
        check = FOLLOW_CHECKS.get(prompt.rule)
        if check is None:
            return None
        verdicts = []
        while check is not None:
            verdicts.append(self._judge(prompt, check))
            check = check.alternative
        if True in verdicts:
            return True
        return None if None in verdicts else False

    def _judge(self, prompt: Prompt, check: FollowCheck) -> bool | None:
        deadline = prompt.at + check.window
        if check.kind == "stop_talking":
            if not self._rep_speaking_at(deadline, until=self.now):
                return True
        elif check.kind in ("ask", "say"):
            said = [w.text.strip() for w in self._rep_words if prompt.at <= w.at and w.start <= deadline]
            if check.kind == "ask" and any(text.endswith("?") for text in said):
                return True
            if check.kind == "say" and re.search(check.pattern, " ".join(said), re.I):
                return True
        elif check.kind == "speak":
            if any(r.start >= prompt.at and r.start <= deadline for r in self._runs.get("rep", [])):
                return True
            if "rep" in self._active and self._active["rep"] >= prompt.at:
                return True
        elif check.kind == "wait":
            later = [pause for start, pause in self._answers if start >= prompt.at]
            if later:  # judged on the first answer the rep gave after the prompt
                return later[0] >= ANSWER_WAIT
        return False if self.now >= deadline or self.ended else None

    def _rep_speaking_at(self, moment: float, until: float) -> bool:
        """True if rep speech covers ``moment`` (an open segment counts until ``until``)."""
        if until < moment:
            return True  # cannot tell yet: treat as still talking
        if any(r.start <= moment <= r.end for r in self._runs.get("rep", [])):
            return True
        return "rep" in self._active and self._active["rep"] <= moment

    def scorecard(self) -> Scorecard:
        pauses = [pause for _, pause in self._answers]
        state = self.state
        rep, customer = state.talk["rep"], state.talk["customer"]
        return Scorecard(
            duration=round(self.now, 2),
            rep_talk=round(rep, 2),
            customer_talk=round(customer, 2),
            rep_share=round(rep / (rep + customer), 3) if rep + customer > 0 else None,
            longest_monologue=round(self.longest_run("rep"), 2),
            longest_story=round(self.longest_run("customer"), 2),
            rep_interruptions=state.interruptions.get("rep", 0),
            customer_interruptions=state.interruptions.get("customer", 0),
            answer_pause_median=round(statistics.median(pauses), 2) if pauses else None,
            answer_pauses=len(pauses),
            questions=state.questions,
            prompts=tuple(
                PromptOutcome(
                    at=round(p.at, 2),
                    rule=p.rule,
                    text=p.text,
                    check=FOLLOW_CHECKS[p.rule].label if p.rule in FOLLOW_CHECKS else "",
                    followed=self.outcome(p),
                    dismissed=self.dismissed(p),
                )
                for p in self._prompts
            ),
        )


def build_scorecard(events: list[Event]) -> Scorecard:
    stats = CallStats()
    for event in events:
        stats.feed(event)
    return stats.scorecard()


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def clock(seconds: float) -> str:
    """Call time as m:ss."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def scorecard_rows(card: Scorecard) -> list[tuple[str, str]]:
    """The figures as (label, value) pairs: one wording for the screen and the Markdown."""
    share = "—" if card.rep_share is None else f"{card.rep_share:.0%} / {1 - card.rep_share:.0%}"
    pause = _seconds(card.answer_pause_median)
    return [
        ("Call length", clock(card.duration)),
        ("Talk share rep / customer", share),
        ("Talk time rep / customer", f"{card.rep_talk:.0f} s / {card.customer_talk:.0f} s"),
        ("Longest monologue (rep)", _seconds(card.longest_monologue)),
        ("Longest customer story", _seconds(card.longest_story)),
        ("Interruptions rep → customer", str(card.rep_interruptions)),
        ("Interruptions customer → rep", str(card.customer_interruptions)),
        ("Pause before rep answers (median)", f"{pause} over {card.answer_pauses} answers"),
        ("Questions asked by the rep", str(card.questions)),
        ("Prompts shown", str(len(card.prompts))),
    ]


def followed_label(outcome: PromptOutcome) -> str:
    verdict = {True: "followed", False: "not followed", None: "—"}[outcome.followed]
    return f"{verdict} (dismissed)" if outcome.dismissed else verdict


def to_markdown(card: Scorecard, title: str = "Call scorecard") -> str:
    lines = [f"# {title}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in scorecard_rows(card)]
    if card.prompts:
        lines += ["", "## Prompts", "", "| at | prompt | check | result |", "|---|---|---|---|"]
        lines += [
            f"| {clock(p.at)} | {p.text} | {p.check or '—'} | {followed_label(p)} |"
            for p in card.prompts
        ]
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    # Readable by the user only, like the session log it sits beside: it quotes the call.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def write_scorecard(card: Scorecard, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.scorecard.md`` and ``<stem>.scorecard.json`` into ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        md = directory / f"{stem}.scorecard.md"
        js = directory / f"{stem}.scorecard.json"
        _write_private(md, to_markdown(card, f"Call scorecard: {stem}"))
        _write_private(js, json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise AssistError(f"{directory}: cannot write the scorecard: {exc.strerror}") from None
    return md, js
