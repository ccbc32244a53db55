"""``assist history``: past calls from the session logs, newest first."""

from __future__ import annotations

import argparse

from assist.session_log import SessionSummary, list_sessions, sessions_dir, summarize


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history",
        help="list past calls (session logs)",
        description=f"List past calls logged in {sessions_dir()} (ASSIST_DATA_DIR overrides). "
        "Replay one with `assist replay LOG`.",
    )
    parser.add_argument("-n", "--limit", type=int, default=20, help="newest N calls (default 20)")
    parser.set_defaults(func=run)


def format_summary(s: SessionSummary) -> str:
    minutes, seconds = divmod(int(s.duration), 60)
    words = " ".join(f"{k} {v}" for k, v in sorted(s.words.items())) or "no words"
    ended = s.ended or "interrupted"
    extra = "  +wav" if s.recording else ""
    return (
        f"{s.started:25} {minutes:3d}:{seconds:02d}  {words:24} {s.prompts:3d} prompts  "
        f"{ended:11} {s.path}{extra}"
    )


def run(args: argparse.Namespace) -> int:
    paths = list_sessions()
    if not paths:
        print(f"no calls logged yet in {sessions_dir()}")
        return 0
    for path in reversed(paths[-args.limit :] if args.limit > 0 else paths):
        print(format_summary(summarize(path)))
    return 0
