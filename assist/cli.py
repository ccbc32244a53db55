"""The ``assist`` command: one sub-command module per job under :mod:`assist.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from assist.errors import AssistError

# Each module defines ``add_parser(subparsers)`` and the parser's ``func`` default.
COMMANDS = ("transcribe", "devices", "rules", "eval", "live", "replay", "history")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assist", description="Real-time call assist: local transcription and coaching prompts."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"assist.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assist.commands.{name}":
                raise
            continue  # not built yet
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AssistError as exc:
        print(f"assist: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
