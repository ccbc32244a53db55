"""The overlay's panels: each renders one part of a :class:`~assist.ui.view.CallView`."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from assist.events import Prompt
from assist.scorecard import Scorecard, clock, followed_label, scorecard_rows
from assist.ui.view import CallView, Stage

PRIORITY_STYLES = {3: "bold red", 2: "bold yellow", 1: "bold cyan"}
SPEAKER_STYLES = {"rep": "green", "customer": "magenta", "unknown": "white"}
SPEAKER_NAMES = {"rep": "you", "customer": "cust", "unknown": "  ? "}
SHARE_BAR = 10  # cells of the talk-share bar
LONG_MONOLOGUE = 60.0  # s: the rep's monologue meter turns red
# A step's name on the stage line: its rule id in words, unless that reads badly.
STAGE_LABELS = {"requalify": "re-qualify", "verify_promise": "verify"}


def priority_style(prompt: Prompt) -> str:
    return PRIORITY_STYLES[max(1, min(3, prompt.priority))]


class PromptPanel(Static):
    """The current prompts, big and coloured by priority, with where they come from."""

    def show(self, view: CallView) -> None:
        active = view.active_prompts()
        if not active:
            self.update(Text("listening…", style="dim"))
            return
        parts: list[RenderableType] = []
        for i, item in enumerate(active):
            p = item.prompt
            dim = " dim" if item.fading else ""
            if i:
                parts.append(Text())
            parts.append(Text(f"● {p.text.upper()}", style=priority_style(p) + dim))
            below = []
            if p.detail:
                below.append(Text(p.detail, style="default" + dim))
            source = " · ".join(x for x in (p.evidence, f"article {p.article}" if p.article else "") if x)
            if source:
                below.append(Text(source, style="italic dim"))
            # Indented as a block: a wrapped line of evidence stays under its prompt.
            parts.append(Padding(Group(*below), (0, 0, 0, 2)))
        self.update(Group(*parts))


class TranscriptPanel(Widget):
    """The last turns of the call, wrapped, newest at the bottom; words not yet committed dimmed.

    Wrapped when drawn, at the width the panel has then (and again when it is resized).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._turns: list[tuple[str, str, str]] = []

    def show(self, view: CallView) -> None:
        self._turns = view.transcript()[-20:]  # more than any terminal shows
        self.refresh()

    def render(self) -> RenderableType:
        height, width = max(1, self.content_size.height), max(20, self.content_size.width)
        rows: list[Text] = []
        for speaker, said, guess in self._turns[-height:]:
            name = SPEAKER_NAMES.get(speaker, speaker)
            line = Text(f"{name} ", style=f"bold {SPEAKER_STYLES.get(speaker, 'white')}")
            line.append(said)
            if guess:
                line.append((" " if said else "") + guess, style="dim italic")
            rows.extend(line.wrap(self.app.console, width))
        return Text("\n").join(rows[-height:])


def stage_text(stage: Stage | None) -> Text:
    """The steps of the sequence the call is in, the one reached highlighted."""
    text = Text("stage ", style="dim")
    if stage is None:
        text.append("—", style="dim")
        return text
    for i, rule in enumerate(stage.steps):
        if i:
            text.append(" › ", style="dim")
        label = STAGE_LABELS.get(rule, rule.replace("_", " "))
        text.append(label, style="bold reverse" if rule == stage.reached else "dim")
    return text


class MetersBar(Static):
    """Call time, talk share, current monologue, customer heat; below, the sequence under way."""

    def show(self, view: CallView) -> None:
        stats = view.stats
        state = stats.state
        text = Text()
        text.append(f"⏱ {clock(view.position)}", style="bold")
        text.append("   talk ")
        if state.window_talk <= 0:
            text.append("—", style="dim")
        else:
            share = state.rep_share
            filled = round(share * SHARE_BAR)
            text.append(f"you {share:.0%} ", style=SPEAKER_STYLES["rep"])
            text.append("█" * filled, style=SPEAKER_STYLES["rep"])
            text.append("█" * (SHARE_BAR - filled), style=SPEAKER_STYLES["customer"])
            text.append(f" {1 - share:.0%} cust", style=SPEAKER_STYLES["customer"])
        holder, seconds = state.monologue
        text.append("   monologue ")
        if holder in SPEAKER_NAMES and seconds >= 1:
            long = holder == "rep" and seconds >= LONG_MONOLOGUE
            text.append(f"{SPEAKER_NAMES[holder]} {seconds:.0f} s", style="bold red" if long else "")
        else:
            text.append("—", style="dim")
        text.append("   heat ")
        arrow = {"rising": "▲", "falling": "▼"}.get(state.heat_trend_label, "")
        text.append(f"{state.heat:.1f}{arrow}", style="bold red" if state.heat_trend_label == "rising" else "bold")
        text.append("\n")
        text.append_text(stage_text(view.stage()))
        self.update(text)


class StatusLine(Static):
    """Model, source, replay state and capture warnings."""

    def show(self, view: CallView, source: str, playing: str) -> None:
        text = Text()
        text.append(source, style="dim")
        if playing:
            text.append(f"   {playing}", style="bold")
        for notice in view.warnings():
            who = f" ({notice.speaker})" if notice.speaker else ""
            text.append(f"   ⚠ {notice.message}{who}", style="bold black on yellow")
        self.update(text)


def scorecard_table(card: Scorecard) -> Table:
    figures = Table(title="Call scorecard", show_header=False, expand=False, title_style="bold")
    figures.add_column(style="dim")
    figures.add_column(style="bold")
    for label, value in scorecard_rows(card):
        figures.add_row(label, value)
    return figures


def prompts_table(card: Scorecard) -> Table:
    table = Table(title="Prompts", expand=False, title_style="bold")
    for name in ("at", "prompt", "check", "result"):
        table.add_column(name)
    for p in card.prompts:
        style = {True: "green", False: "red", None: "dim"}[p.followed]
        table.add_row(clock(p.at), p.text, p.check or "—", Text(followed_label(p), style=style))
    return table
