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


def print_events(
    events: Iterable[Event],
    out: TextIO,
    *,
    jsonl: bool = False,
    record: Callable[[Event], None] | None = None,
) -> CallStats:
    """Print prompts and notices (or, with ``jsonl``, every event); return the call's figures."""
    stats = CallStats()
    for event in events:
        stats.feed(event)
        if record is not None:
            record(event)
        if jsonl:
            out.write(json.dumps(to_dict(event), ensure_ascii=False) + "\n")
        elif isinstance(event, Prompt):
            out.write(format_prompt(event) + "\n")
        elif isinstance(event, Notice):
            out.write(f"{clock(event.at)}  ⚠ {event.message}\n")
        else:
            continue
        out.flush()  # a script reading a pipe sees each line as it happens
    return stats
