"""``--no-ui``: the same event stream as the overlay, printed for scripts and dumb terminals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TextIO

from assist.events import Event, Notice, Prompt, to_dict
from assist.scorecard import CallStats, clock


def format_prompt(prompt: Prompt) -> str:
    """One line: call time, the prompt, its detail, and why it fired."""
    line = f"{clock(prompt.at)}  {prompt.text.upper()}"
    if prompt.detail:
        line += f" — {prompt.detail}"
    why = " · ".join(x for x in (prompt.evidence, f"article {prompt.article}" if prompt.article else "") if x)
    return f"{line}  [{why}]" if why else line


def format_event(event: Event, jsonl: bool) -> str | None:
    """The line printed for ``event`` (newline included), or None if it is not printed."""
    if jsonl:
        return json.dumps(to_dict(event), ensure_ascii=False) + "\n"
    if isinstance(event, Prompt):
        return format_prompt(event) + "\n"
    if isinstance(event, Notice):
        return f"{clock(event.at)}  ⚠ {event.message}\n"
    return None


def print_events(
    events: Iterable[Event],
    out: TextIO,
    *,
    jsonl: bool = False,
    record: Callable[[Event], None] | None = None,
    on_closed: Callable[[], None] | None = None,
) -> CallStats:
    """Print prompts and notices (or, with ``jsonl``, every event); return the call's figures.

    If the reader closes the pipe (``| head``), printing stops and ``on_closed`` is called
    (e.g. to stop the pipeline); the rest of the events are still recorded and counted, so
    the call ends as it would by itself, with its CallEnd logged and its scorecard.
    """
    stats = CallStats()
    printing = True
    for event in events:
        stats.feed(event)
        if record is not None:
            record(event)
        line = format_event(event, jsonl) if printing else None
        if line is None:
            continue
        try:
            out.write(line)
            out.flush()  # a script reading a pipe sees each line as it happens
        except BrokenPipeError:
            printing = False
            if on_closed is not None:
                on_closed()
    return stats
