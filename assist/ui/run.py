"""Run one call — live or replayed — in the overlay or as plain output, then save its scorecard."""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from assist.errors import AssistError
from assist.events import Event
from assist.scorecard import write_scorecard

if TYPE_CHECKING:
    from assist.audio.base import AudioSource
    from assist.pipeline import Clock, Pipeline


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``live`` and ``replay`` share: model, rules and output."""
    parser.add_argument("--model", default=None, help="Whisper model (default: the bundled tiny.en)")
    parser.add_argument("--rules", action="append", type=Path, default=None, metavar="PATH",
                        help="rule pack file or directory (repeatable; default: $ASSIST_RULES or rules/)")
    parser.add_argument("--no-ui", action="store_true", help="print prompts to stdout instead")
    parser.add_argument("--jsonl", action="store_true", help="with --no-ui: every event as JSON lines")


def open_pipeline(
    source: AudioSource, model: str | None, clock: Clock, rules: list[Path] | None = None
) -> tuple[Pipeline, Iterator[Event], Callable[[Event], None]]:
    """Pipeline on ``source`` coached by the rule pack: (pipeline, its coached events, tell).

    ``tell`` hands the engine an event of the rep's own from any thread (a dismissal: the
    rule's cooldown restarts); the engine takes it between two pipeline events, on the
    thread that reads them, so it stays single-threaded and pure.
    Loads the model and the rules now, so a bad model or rule pack fails before any UI opens.
    """
    from assist.model import cpu_threads_for, load_model
    from assist.pipeline import Pipeline
    from assist.rules import Engine, default_rules_dir, load_pack

    engine = Engine(load_pack(rules or [default_rules_dir()]))
    pipeline = Pipeline(source, load_model(model, cpu_threads=cpu_threads_for(clock)), clock=clock)
    inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def told_first(events: Iterable[Event]) -> Iterator[Event]:
        for event in events:
            while not inbox.empty():
                engine.feed(inbox.get_nowait())
            yield event

    return pipeline, engine.coach(told_first(pipeline.events())), inbox.put


@contextmanager
def _ctrl_c_stops(on_stop: Callable[[], None] | None) -> Iterator[None]:
    """Ctrl-C ends the call as the end of the audio does: the pipeline stops, its CallEnd is
    printed and logged and the scorecard written. A second Ctrl-C interrupts at once."""
    if on_stop is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        on_stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stdout_closed(on_stop: Callable[[], None] | None) -> Callable[[], None]:
    """What to do when the reader of stdout goes away: end the call as Ctrl-C does."""

    def closed() -> None:
        # Python's SIGPIPE-safe idiom: what is left in stdout's buffer goes to /dev/null, so
        # the flush at interpreter exit does not raise BrokenPipeError again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        if on_stop is not None:
            on_stop()

    return closed


def run_call(
    source: Iterable[Event],
    *,
    label: str,
    scorecard_dir: Path | None,
    stem: str,
    live: bool = False,
    no_ui: bool = False,
    jsonl: bool = False,
    start: float = 0.0,
    speed: float = 1.0,
    on_stop: Callable[[], None] | None = None,
    record: Callable[[Event], None] | None = None,
    tell: Callable[[Event], None] | None = None,
    play: Path | None = None,
) -> int:
    """Show (or print) the call's events; ``record`` gets every event, dismissals included,
    and ``tell`` (the rule engine, see :func:`open_pipeline`) the rep's dismissals.

    ``play``: an audio file to play aloud in step with the overlay (replay only).
    """
    if no_ui:
        from assist.ui.plain import print_events

        try:
            with _ctrl_c_stops(on_stop):
                stats = print_events(
                    source, sys.stdout, jsonl=jsonl, record=record, on_closed=_stdout_closed(on_stop)
                )
        finally:
            if on_stop is not None:
                on_stop()
        saved = write_scorecard(stats.scorecard(), scorecard_dir, stem) if scorecard_dir else ()
    else:
        from assist.ui.app import AssistApp
        from assist.ui.feed import EventFeed

        feed = EventFeed(source, live=live, start=start, on_stop=on_stop)
        feed.playhead.set_speed(speed)
        app = AssistApp(feed, source=label, scorecard_dir=scorecard_dir, stem=stem, record=record, tell=tell)
        player = None
        if play is not None:
            from assist.ui.playback import AudioPlayer, decode_all

            player = AudioPlayer(decode_all(play), feed.playhead)
        try:
            app.run()
        finally:
            if player is not None:
                player.close()
        if app.result.error:
            raise AssistError(app.result.error)
        saved = app.result.saved
    for path in saved:
        print(f"scorecard: {path}", file=sys.stderr)
    return 0
