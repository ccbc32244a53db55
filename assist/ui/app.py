"""The Textual overlay for ``assist live`` and ``assist replay``.

The UI thread never transcribes: an :class:`~assist.ui.feed.EventFeed` runs in a worker
thread and posts :class:`FeedMessage` updates; the app applies them to a pure
:class:`~assist.ui.view.CallView` and redraws. At the end of the call (end of file, quit) it
saves the scorecard and shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from assist.events import CallEnd, Event
from assist.scorecard import CallStats, Scorecard, state_engine, write_scorecard
from assist.ui.feed import EventFeed, FeedUpdate
from assist.ui.view import CallView
from assist.ui.widgets import (
    MetersBar,
    PromptPanel,
    StatusLine,
    TranscriptPanel,
    prompts_table,
    scorecard_table,
)

if TYPE_CHECKING:
    from assist.rules import Engine

SEEK_STEP = 5.0
REPLAY_ACTIONS = {"pause", "faster", "slower", "back", "forward", "next_prompt"}
CALL_ACTIONS = REPLAY_ACTIONS | {"dismiss", "end_call"}


class FeedMessage(Message):
    def __init__(self, update: FeedUpdate) -> None:
        super().__init__()
        self.update = update


@dataclass
class CallResult:
    """What the app leaves behind for the command."""

    scorecard: Scorecard | None = None
    saved: tuple[Path, ...] = ()
    error: str | None = None


class ScorecardScreen(Screen):
    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.pop_screen", "Back to the call"),
    ]

    def __init__(self, card: Scorecard, saved: tuple[Path, ...]) -> None:
        super().__init__()
        self.card, self.saved = card, saved

    def compose(self) -> ComposeResult:
        with Vertical(id="scorecard"):
            yield Static(scorecard_table(self.card), id="figures")
            if self.card.prompts:
                yield Static(prompts_table(self.card), id="prompt-outcomes")
            where = "saved: " + ", ".join(str(p) for p in self.saved) if self.saved else "not saved"
            yield Static(where, id="saved")
        yield Footer()


class AssistApp(App[CallResult]):
    CSS_PATH = "app.tcss"
    TITLE = "assist"
    BINDINGS = [
        Binding("d", "dismiss", "Dismiss"),
        Binding("space", "pause", "Pause"),
        Binding("left", "back", f"−{SEEK_STEP:.0f}s"),
        Binding("right", "forward", f"+{SEEK_STEP:.0f}s"),
        Binding("minus", "slower", "Slower"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("n", "next_prompt", "Next prompt"),
        Binding("q", "end_call", "End"),
    ]

    def __init__(
        self,
        feed: EventFeed,
        *,
        source: str,
        scorecard_dir: Path | None = None,
        stem: str = "call",
        record: Callable[[Event], None] | None = None,
        state_engine: Callable[[], Engine] = state_engine,
    ) -> None:
        super().__init__()
        self._state_engine = state_engine  # the meters' conversation state (rules' defaults)
        self.record = record  # the session log: gets every event shown and the rep's dismissals
        self.feed = feed
        self.view = self._new_view()
        self.source = source
        self.scorecard_dir = scorecard_dir
        self.stem = stem
        self.result = CallResult()
        self._last: FeedUpdate | None = None
        self._shown = self._recorded = 0  # events applied since the last reset / ever recorded

    def _new_view(self) -> CallView:
        return CallView(stats=CallStats(engine=self._state_engine()))

    def compose(self) -> ComposeResult:
        yield PromptPanel(id="prompts")
        yield TranscriptPanel(id="transcript")
        yield MetersBar(id="meters")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.feed.start()
        self._pump()

    @work(thread=True, exclusive=True, name="feed")
    def _pump(self) -> None:
        self.feed.run(lambda update: self.post_message(FeedMessage(update)))

    def on_feed_message(self, message: FeedMessage) -> None:
        update = message.update
        if update.reset:
            self.view = self._new_view()
            self._shown = 0
        for event in update.events:
            self.view.apply(event)
            self._shown += 1
            if self.record is not None and self._shown > self._recorded:
                self.record(event)  # once, even when a seek back shows it again
                self._recorded = self._shown
        self.view.advance(update.position)
        self._last = update
        self.redraw()
        if update.error:
            self.result.error = update.error
        if (update.ended or self.view.ended) and self.result.scorecard is None:
            self.end_call()

    def redraw(self) -> None:
        self.query_one(PromptPanel).show(self.view)
        self.query_one(TranscriptPanel).show(self.view)
        self.query_one(MetersBar).show(self.view)
        self.query_one(StatusLine).show(self.view, self.source, self._playing())

    def _playing(self) -> str:
        update = self._last
        if self.feed.live or update is None:
            return "● live" if self.feed.live else ""
        if update.ended:
            return "■ ended"
        state = "⏸ paused" if update.paused else "▶"
        buffering = "  (transcribing…)" if update.buffering else ""
        return f"{state} {update.speed:g}×{buffering}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CALL_ACTIONS and isinstance(self.screen, ScorecardScreen):
            return False
        if action in REPLAY_ACTIONS and self.feed.live:
            return False  # hidden from the footer and ignored live
        return True

    # --- keys ---------------------------------------------------------------------------------
    def action_dismiss(self) -> None:
        dismiss = self.view.dismiss_top()
        if dismiss is not None:
            if self.record is not None:
                self.record(dismiss)
            self.redraw()

    def action_pause(self) -> None:
        self.feed.toggle_pause()

    def action_faster(self) -> None:
        self.feed.change_speed(+1)

    def action_slower(self) -> None:
        self.feed.change_speed(-1)

    def action_back(self) -> None:
        self.feed.seek_by(-SEEK_STEP)
        self._resume_after_end()

    def action_forward(self) -> None:
        self.feed.seek_by(SEEK_STEP)

    def action_next_prompt(self) -> None:
        if not self.feed.next_prompt():
            self.notify("No further prompt yet", timeout=2)

    def _resume_after_end(self) -> None:
        # A replay that reached its end can be watched again from an earlier moment.
        if self._last is not None and self._last.ended and not self.feed.stopped:
            self._pump()

    def action_end_call(self) -> None:
        self.feed.stop()
        self.end_call()

    def on_unmount(self) -> None:
        self.feed.stop()

    # --- the end of the call --------------------------------------------------------------------
    def end_call(self) -> None:
        """Save the scorecard of what was shown (once) and show it."""
        if self.result.scorecard is None:
            if self.view.ended is None:
                self.view.apply(CallEnd(at=self.view.position, reason="quit"))
            card = self.view.stats.scorecard()
            saved: tuple[Path, ...] = ()
            if self.scorecard_dir is not None:
                saved = write_scorecard(card, self.scorecard_dir, self.stem)
            self.result.scorecard, self.result.saved = card, saved
        self.push_screen(ScorecardScreen(self.result.scorecard, self.result.saved))
