"""``assist transcribe FILE``: words as they come, per speaker.

On a terminal the partial (the current guess) is shown dimmed and overwritten in place
and committed words stay; otherwise each batch of committed words is one plain line
(``[  12.34] rep: words``). ``--jsonl`` writes every event as one JSON object a line
(:func:`assist.events.to_dict`). Without ``--realtime`` the file runs as fast as the machine
goes on the simulated clock (``at`` is what real time would have given); ``--clock fast``
skips interim passes for speed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from assist.errors import AssistError
from assist.events import CallEnd, Event, Notice, Partial, SpeechEnd, Word, to_dict

DIM, RESET, CLEAR = "\x1b[2m", "\x1b[0m", "\r\x1b[K"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "transcribe",
        help="transcribe an audio file as it would stream, per speaker",
        description="Transcribe a call recording (any format PyAV decodes; stereo = left rep, "
        "right customer; mono = one speaker) with the streaming transcriber.",
    )
    p.add_argument("file", help="audio file")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per event on stdout")
    p.add_argument("--realtime", action="store_true",
                   help="play the file at the speed of the world (see --speed)")
    p.add_argument("--speed", type=float, default=1.0, help="with --realtime: 0.5 to 4 (default 1)")
    p.add_argument("--start", type=float, default=0.0, metavar="SECONDS",
                   help="start this far into the file (times stay the file's)")
    p.add_argument("--clock", choices=("realtime", "simulated", "fast"), default=None,
                   help="realtime (default with --realtime), simulated (default otherwise: "
                   "as fast as possible, real-time timings), fast (no interim passes)")
    p.add_argument("--model", default=None,
                   help="faster-whisper model name (from the local cache) or CTranslate2 "
                   "directory; default: the bundled tiny.en. Never downloads.")
    p.add_argument("--threads", type=int, default=None, help="CTranslate2 CPU threads (default 1; 2 with --clock fast)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds of new speech between interim passes (default 0.25)")
    p.add_argument("--ticks", action="store_true", help="with --jsonl: include tick events")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assist.audio.file import FileSource
    from assist.model import cpu_threads_for, load_model
    from assist.pipeline import Pipeline

    clock = args.clock or ("realtime" if args.realtime else "simulated")
    if args.realtime and clock != "realtime":
        raise AssistError("--realtime plays the file in real time: it goes with --clock realtime")
    if not 0.5 <= args.speed <= 4.0:
        raise AssistError("--speed must be between 0.5 and 4")
    if args.threads is not None and args.threads < 1:
        raise AssistError("--threads must be at least 1")
    source = FileSource(args.file, paced=clock == "realtime", speed=args.speed, start=args.start)
    try:
        model = load_model(args.model, cpu_threads=args.threads or cpu_threads_for(clock))
        options = {} if args.interval is None else {"interval": args.interval}
        pipeline = Pipeline(source, model, clock=clock, channel_options=options)
    except BaseException:
        source.close()
        raise
    out = sys.stdout
    if args.jsonl:
        view: _View = _JsonLines(out, ticks=args.ticks)
    elif out.isatty():
        view = _Terminal(out)
    else:
        view = _Plain(out)
    try:
        for event in pipeline.events():
            view.show(event)
    except KeyboardInterrupt:
        pipeline.stop()
        raise
    finally:
        view.close()
    return 0


class _View:
    def show(self, event: Event) -> None: ...

    def close(self) -> None: ...


class _JsonLines(_View):
    def __init__(self, out: TextIO, ticks: bool) -> None:
        self.out, self.ticks = out, ticks

    def show(self, event: Event) -> None:
        if event.type == "tick" and not self.ticks:
            return
        self.out.write(json.dumps(to_dict(event)) + "\n")
        self.out.flush()


class _Plain(_View):
    """One line per batch of committed words; notices as lines too."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.key: tuple[str, float] | None = None
        self.words: list[str] = []

    def _flush(self) -> None:
        if self.key and self.words:
            speaker, at = self.key
            self.out.write(f"[{at:8.2f}] {speaker}: {''.join(self.words).strip()}\n")
            self.out.flush()
        self.key, self.words = None, []

    def show(self, event: Event) -> None:
        if isinstance(event, Word):
            key = (event.speaker, event.at)
            if key != self.key:
                self._flush()
                self.key = key
            self.words.append(event.text)
            return
        self._flush()
        if isinstance(event, Notice):
            self.out.write(f"[{event.at:8.2f}] ({event.kind}: {event.message})\n")

    def close(self) -> None:
        self._flush()


class _Terminal(_View):
    """Finished turns scroll as plain lines; below them, one live line per speaker in a
    turn: committed words, then the partial dimmed, redrawn in place (cut to the width)."""

    UP = "\x1b[1A"

    def __init__(self, out: TextIO) -> None:
        import shutil

        self.out = out
        self.width = max(shutil.get_terminal_size((100, 20)).columns - 1, 20)
        self.live: dict[str, tuple[str, list[str]]] = {}  # speaker -> (committed, partial words)
        self.ended: set[str] = set()
        self.drawn = 0  # live lines on screen below the permanent ones

    def _live_line(self, speaker: str, committed: str, partial: list[str]) -> str:
        head = f"{speaker:>8}: "
        done, guess = committed.strip(), "".join(partial).strip()
        room = self.width - len(head)
        if len(done) + len(guess) + 1 > room:  # keep the newest words
            if len(guess) >= room - 1:
                done, guess = "", "…" + guess[-(room - 2):]
            else:
                done = "…" + done[-(room - len(guess) - 3):]
        text = done + (f" {DIM}{guess}{RESET}" if guess else "")
        return head + text.strip()

    def _redraw(self, permanent: list[str]) -> None:
        parts = [(CLEAR + self.UP) * self.drawn + CLEAR]
        live = [self._live_line(s, c, p) for s, (c, p) in self.live.items() if c.strip() or p]
        body = permanent + live
        parts.append("\n".join(body))
        if permanent and not live:
            parts.append("\n")
        self.drawn = len(live) - 1 if live else 0
        self.out.write("".join(parts))
        self.out.flush()

    def show(self, event: Event) -> None:
        from assist.transcription.agreement import normalize

        permanent: list[str] = []
        if isinstance(event, Word):
            committed, partial = self.live.get(event.speaker, ("", []))
            if partial and normalize(partial[0]) == normalize(event.text):
                partial = partial[1:]  # its own Partial follows; do not show it twice
            self.live[event.speaker] = (committed + event.text, partial)
        elif isinstance(event, Partial):
            committed, _ = self.live.get(event.speaker, ("", []))
            self.live[event.speaker] = (committed, [w.text for w in event.words])
            if not event.words and event.speaker in self.ended:
                self.ended.discard(event.speaker)
                self.live.pop(event.speaker)
                if committed.strip():
                    permanent.append(f"{event.speaker:>8}: {committed.strip()}")
        elif isinstance(event, SpeechEnd):
            self.ended.add(event.speaker)
            return
        elif isinstance(event, Notice):
            permanent.append(f"{DIM}({event.kind}: {event.message}){RESET}")
        elif isinstance(event, CallEnd):
            permanent += [f"{s:>8}: {c.strip()}" for s, (c, _) in self.live.items() if c.strip()]
            self.live.clear()
        else:
            return
        self._redraw(permanent)

    def close(self) -> None:
        if self.live:
            self.show(CallEnd(at=0.0))
        self.out.flush()
