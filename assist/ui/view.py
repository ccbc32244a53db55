"""What the overlay shows, derived from the events handed over so far and the call time.

Pure (no Textual): the widgets only render a :class:`CallView`, so what is on screen at a
moment depends on the events and the position alone — seeking back is "reset and re-apply".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assist.events import (
    CallEnd,
    Dismiss,
    Event,
    Notice,
    Partial,
    Prompt,
    Speaker,
    SpeechStart,
    Word,
)
from assist.scorecard import CallStats

# Notices that mean the rep is not getting the whole call, and the ones that lift them.
WARNINGS = {"device_lost": "device_back", "behind": "caught_up", "overflow": None}
NOTICE_SECONDS = 6.0  # how long a notice without an "all clear" stays up
FADE_SHARE = 0.25  # a prompt is drawn dimmed during the last quarter of its time
FOLLOWED_LINGER = 1.0  # a prompt the rep acted on stays this long, dimmed
MAX_PROMPTS = 3
TRANSCRIPT_TURNS = 12


@dataclass(frozen=True, slots=True)
class ShownPrompt:
    prompt: Prompt
    fading: bool


@dataclass(frozen=True, slots=True)
class Stage:
    """Where the call stands in an article's sequence of steps (e.g. 001: clarify → … → follow up)."""

    article: str
    steps: tuple[str, ...]  # rule ids of the steps, in order
    reached: str  # rule id of the last step reached


@dataclass
class Turn:
    speaker: Speaker
    words: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.words).strip()


@dataclass
class CallView:
    position: float = 0.0
    events: list[Event] = field(default_factory=list)  # everything applied, for the scorecard
    stats: CallStats = field(default_factory=CallStats)
    prompts: list[Prompt] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)  # by when each began; overlaps interleave
    _open: dict[str, Turn] = field(default_factory=dict)  # each speaker's turn words go to
    partial: dict[str, str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    ended: CallEnd | None = None
    _stages: dict[str, tuple[int, str]] = field(default_factory=dict)  # as last seen in the state
    _stage_article: str | None = None  # the sequence whose step was reached most recently

    def apply(self, event: Event) -> None:
        self.events.append(event)
        self.stats.feed(event)
        self.position = max(self.position, event.at)
        if isinstance(event, Word):
            turn = self._open.get(event.speaker)
            if turn is None:
                turn = self._open[event.speaker] = Turn(event.speaker)
                self.turns.append(turn)
                del self.turns[:-TRANSCRIPT_TURNS]
            turn.words.append(event.text)
        elif isinstance(event, SpeechStart):
            # A new line unless this speaker's line is still the last one (a mere pause).
            turn = self._open.get(event.speaker)
            if turn is not None and self.turns and self.turns[-1] is not turn:
                del self._open[event.speaker]
        elif isinstance(event, Partial):
            self.partial[event.speaker] = event.text
        elif isinstance(event, Prompt):
            self.prompts.append(event)
            self._note_stage()
        elif isinstance(event, Notice):
            self._notice(event)
        elif isinstance(event, CallEnd):
            self.ended = event

    def advance(self, position: float) -> None:
        self.position = max(self.position, position)
        self.stats.now = max(self.stats.now, position)

    def _note_stage(self) -> None:
        """Remember which sequence moved last: the call is in that one now.

        The state keeps each article's furthest step but not when it was reached. A step is
        reached by a rule firing, and its prompt comes right after that event — so looking
        at each prompt (rare, unlike words and ticks) is enough to see which one moved (a
        silent step rule, which has no prompt, would show with the next prompt).
        """
        stages = self.stats.state.stages
        moved = [article for article, step in stages.items() if self._stages.get(article) != step]
        if moved:
            self._stage_article = moved[-1]
        self._stages = stages

    def _notice(self, notice: Notice) -> None:
        cleared = [k for k, clear in WARNINGS.items() if clear == notice.kind]
        self.notices = [
            n for n in self.notices if not (n.kind in cleared and n.speaker == notice.speaker)
        ]
        if notice.kind not in WARNINGS.values():
            self.notices.append(notice)

    # --- what is on screen now --------------------------------------------------------------
    def active_prompts(self) -> list[ShownPrompt]:
        """Prompts still up: most urgent first, newest first among equals."""
        shown = []
        for prompt in self.prompts:
            if self.stats.dismissed(prompt):
                continue
            age = self.position - prompt.at
            if age < 0:
                continue
            followed = self.stats.outcome(prompt)
            if followed:
                # Acted on: let it go soon after the moment the check was decided.
                if age > FOLLOWED_LINGER:
                    continue
                shown.append(ShownPrompt(prompt, fading=True))
            elif age <= prompt.ttl:
                shown.append(ShownPrompt(prompt, fading=age >= prompt.ttl * (1 - FADE_SHARE)))
        # A rule repeating itself shows once (its newest prompt).
        newest: dict[str, ShownPrompt] = {}
        for item in shown:
            newest[item.prompt.rule] = item
        ordered = sorted(newest.values(), key=lambda s: (-s.prompt.priority, -s.prompt.at))
        return ordered[:MAX_PROMPTS]

    def stage(self) -> Stage | None:
        """The sequence the call is in and its step; None before any step is reached."""
        article = self._stage_article
        if article is None:
            return None
        reached = self._stages[article][1]
        rules = [r for r in self.stats.engine.pack.rules if r.article == article and r.step is not None]
        steps = tuple(r.id for r in sorted(rules, key=lambda r: r.step or 0))
        return Stage(article, steps or (reached,), reached)

    def dismiss_top(self) -> Dismiss | None:
        """The rep dismissed the prompt on top: the event to record, or None if nothing is up."""
        active = self.active_prompts()
        if not active:
            return None
        dismiss = Dismiss(at=self.position, rule=active[0].prompt.rule)
        self.apply(dismiss)
        return dismiss

    def transcript(self) -> list[tuple[str, str, str]]:
        """(speaker, committed text, partial guess) per line, oldest first.

        A partial belongs to its speaker's open turn, even when the other side's line has
        come after it (overlapping talk); a partial with no open turn starts a new line.
        """
        lines = [[t.speaker, t.text, ""] for t in self.turns]
        for speaker, guess in self.partial.items():
            if not guess:
                continue
            turn = self._open.get(speaker)
            index = next((i for i, t in enumerate(self.turns) if t is turn), None)
            if index is not None:
                lines[index][2] = guess
            else:
                lines.append([speaker, "", guess])
        return [(speaker, said, guess) for speaker, said, guess in lines]

    def warnings(self) -> list[Notice]:
        """Notices to show: warnings until cleared, others for a few seconds."""
        return [
            n
            for n in self.notices
            if n.kind in WARNINGS and n.kind != "overflow"
            or self.position - n.at <= NOTICE_SECONDS
        ]
