"""Shared by the overlay tests: the scripted call and a clock the test moves by hand."""

from __future__ import annotations

from pathlib import Path

from assist.events import Event
from assist.session_log import read_log

# A 42 s scripted call (session-log format): the customer reports layoffs, the rep talks
# over them, five prompts, a "transcriber behind" notice from 12 s to 15 s.
CALL_LOG = Path(__file__).resolve().parent / "ui_call.jsonl"


def call_events() -> list[Event]:
    return list(read_log(CALL_LOG))


class ManualClock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
