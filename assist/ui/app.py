"""The Textual overlay for ``assist live`` and ``assist replay``.

The UI thread never transcribes: an :class:`~assist.ui.feed.EventFeed` runs in a worker
thread and posts :class:`FeedMessage` updates; the app applies them to a pure
:class:`~assist.ui.view.CallView` and redraws. At the end of the call (end of file, quit) it
saves the scorecard and shows it; a replay can be sought back from its end and watched again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
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
    # The figures and the prompts table outgrow a small terminal: the keys scroll them.
    AUTO_FOCUS = "#scorecard"
    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.pop_screen", "Back to the call"),
    ]

    def __init__(self, card: Scorecard, saved: tuple[Path, ...]) -> None:
        super().__init__()
        self.card, self.saved = card, saved

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="scorecard"):
            yield Static(scorecard_table(self.card), id="figures")
            if self.card.prompts:
                yield Static(prompts_table(self.card), id="prompt-outcomes")
            where = "\n  ".join(["saved:", *map(str, self.saved)]) if self.saved else "not saved"
            yield Static(where, id="saved")
        yield Footer(show_command_palette=False)


class AssistApp(App[CallResult]):
    CSS_PATH = "app.tcss"
    TITLE = "assist"
    # The footer has 80 columns at most, beside the phone: the keys a rep needs come first and
    # the descriptions stay short (ctrl+p still opens the command palette, unlisted).
    BINDINGS = [
        Binding("q", "end_call", "End"),
        Binding("d", "dismiss", "Dismiss"),
        Binding("space", "pause", "Pause"),
        Binding("left", "back", f"−{SEEK_STEP:.0f}s"),
        Binding("right", "forward", f"+{SEEK_STEP:.0f}s"),
        Binding("minus", "slower", "Slower"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("n", "next_prompt", "Next"),
    ]

    def __init__(
        self,
        feed: EventFeed,
        *,
        source: str,
        scorecard_dir: Path | None = None,
        stem: str = "call",
        record: Callable[[Event], None] | None = None,
        tell: Callable[[Event], None] | None = None,
        state_engine: Callable[[], Engine] = state_engine,
    ) -> None:
        super().__init__()
        self._state_engine = state_engine  # the meters' conversation state (rules' defaults)
        self.record = record  # the session log: gets every event shown and the rep's dismissals
        self.tell = tell  # the rule engine: gets the rep's dismissals (restarts the cooldown)
        self.feed = feed
        self.view = self._new_view()
        self.source = source
        self.scorecard_dir = scorecard_dir
        self.stem = stem
        self.result = CallResult()
        self._last: FeedUpdate | None = None
        self._shown = self._recorded = 0  # events applied since the last reset / ever recorded
        self._over = False  # the call is at its end (a replay may go back from it)

    def _new_view(self) -> CallView:
        return CallView(stats=CallStats(engine=self._state_engine()))

    def compose(self) -> ComposeResult:
        yield PromptPanel(id="prompts")
        yield TranscriptPanel(id="transcript")
        yield MetersBar(id="meters")
        yield StatusLine(id="status")
        yield Footer(show_command_palette=False)

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
        self._reached_end(update.ended or self.view.ended is not None)

    def _reached_end(self, over: bool) -> None:
        """The call got to its end (show the scorecard), or a replay went back from it."""
        if over == self._over:
            return
        self._over = over
        self.refresh_bindings()  # dismiss comes and goes with it
        if over:
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
        if update.ended:  # a replay can still be paused here, then sought back
            return "■ ended  ⏸ paused" if update.paused else "■ ended"
        state = "⏸ paused" if update.paused else "▶"
        buffering = "  (transcribing…)" if update.buffering else ""
        return f"{state} {update.speed:g}×{buffering}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides a key from the footer and ignores it.
        if action in CALL_ACTIONS and isinstance(self.screen, ScorecardScreen):
            return False
        if action in REPLAY_ACTIONS and (self.feed.live or self.feed.stopped):
            return False  # the playhead follows a live call, and stays put once q ended a replay
        if action == "dismiss" and self._over:
            return False  # nothing left to act on after the end
        return True

    # --- keys ---------------------------------------------------------------------------------
    def action_dismiss(self) -> None:
        dismiss = self.view.dismiss_top()
        if dismiss is not None:
            # Into the feed too: a seek back re-shows the dismissal, and the scorecard keeps it.
            self.feed.add(dismiss)
            self._shown += 1  # one more event of the feed, shown and recorded
            self._recorded += 1
            if self.record is not None:
                self.record(dismiss)
            if self.tell is not None:
                self.tell(dismiss)
            self.redraw()

    def action_pause(self) -> None:
        self.feed.toggle_pause()

    def action_faster(self) -> None:
        self.feed.change_speed(+1)

    def action_slower(self) -> None:
        self.feed.change_speed(-1)

    def action_back(self) -> None:
        self.feed.seek_by(-SEEK_STEP)

    def action_forward(self) -> None:
        self.feed.seek_by(SEEK_STEP)

    def action_next_prompt(self) -> None:
        if not self.feed.next_prompt():
            self.notify("No further prompt yet", timeout=2)

    def action_end_call(self) -> None:
        self.feed.stop()
        if self.feed.live and not self._over:
            # The last words and the pipeline's CallEnd come through the feed a moment later
            # (into the session log too); the end then arrives as at the end of a file.
            self.set_timer(self.feed.drain_timeout + 0.5, lambda: self._reached_end(True))
            return
        self._over = True
        self.refresh_bindings()
        self.end_call()

    def on_unmount(self) -> None:
        self.feed.stop()

    # --- the end of the call --------------------------------------------------------------------
    def end_call(self) -> None:
        """Save the scorecard of what was shown and show it.

        Saved again each time a replay reaches its end (dismissals made while watching it
        again count). q before the end saves the call up to that moment — unless the end was
        reached before: that whole-call scorecard stands.
        """
        if self.result.scorecard is None or self.view.ended is not None:
            if self.view.ended is None:
                self.view.apply(CallEnd(at=self.view.position, reason="quit"))
            card = self.view.stats.scorecard()
            saved: tuple[Path, ...] = ()
            if self.scorecard_dir is not None:
                saved = write_scorecard(card, self.scorecard_dir, self.stem)
            self.result.scorecard, self.result.saved = card, saved
        if not isinstance(self.screen, ScorecardScreen):
            self.push_screen(ScorecardScreen(self.result.scorecard, self.result.saved))
