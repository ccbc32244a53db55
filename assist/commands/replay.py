"""``assist replay FILE``: a recorded call — audio file or session log — in the overlay."""

from __future__ import annotations

import argparse
from pathlib import Path

from assist.errors import AssistError
from assist.ui.run import add_call_arguments, open_pipeline, run_call


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a recorded call (audio file or session log) through the overlay",
        description="Replay a call in real time in the overlay: an audio file (left = rep, "
        "right = customer) goes through the transcriber and the rules; a session log "
        "(.jsonl, see `assist history`) is shown as it was. Keys: space pause, ←/→ seek 5 s, "
        "+/- speed, n next prompt, d dismiss, q end (scorecard).",
    )
    parser.add_argument("file", type=Path, help="audio file (any format ffmpeg reads) or session log")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed, 0.5–4 (default 1)")
    parser.add_argument("--start", type=float, default=0.0, help="start at this call time, seconds")
    parser.add_argument(
        "--audio", action="store_true", help="play the call aloud, in step with the overlay"
    )
    parser.add_argument(
        "--clock",
        choices=("realtime", "simulated", "fast"),
        default="realtime",
        help="with --no-ui: pace of an audio file (default realtime)",
    )
    parser.add_argument(
        "--scorecard-dir",
        type=Path,
        default=None,
        help="where to save the scorecard (default: beside the session log)",
    )
    add_call_arguments(parser)
    parser.set_defaults(func=run)


def is_session_log(path: Path) -> bool:
    return path.suffix == ".jsonl"


def audio_to_play(path: Path, args: argparse.Namespace) -> Path:
    """The file ``--audio`` plays: the audio itself, or the recording beside a session log."""
    if args.no_ui:
        raise AssistError("--audio plays along with the overlay: drop --no-ui")
    play = path.with_suffix(".wav") if is_session_log(path) else path
    if not play.is_file():
        raise AssistError(f"{path}: no recording beside the log ({play.name}) to play")
    return play


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise AssistError(f"{path}: no such file")
    if not 0.5 <= args.speed <= 4:
        raise AssistError(f"--speed {args.speed}: must be between 0.5 and 4")
    play = audio_to_play(path, args) if args.audio else None
    if is_session_log(path):
        from assist.session_log import read_log

        events: object = list(read_log(path))  # read whole: a bad line fails before the UI opens
        on_stop = tell = None
        scorecard_dir = args.scorecard_dir or path.parent
    else:
        from assist.audio.file import FileSource
        from assist.session_log import sessions_dir

        # The overlay paces the replay itself (pause, speed, seek): the pipeline runs ahead in
        # simulated time, so every event still carries the call time it would have live.
        clock = args.clock if args.no_ui else "simulated"
        source = FileSource(path, paced=clock == "realtime", speed=args.speed, start=args.start)
        pipeline, events, tell = open_pipeline(source, args.model, clock, args.rules)
        on_stop = pipeline.stop
        scorecard_dir = args.scorecard_dir or sessions_dir()
    return run_call(
        events,  # type: ignore[arg-type]
        label=f"{path.name}",
        scorecard_dir=scorecard_dir,
        stem=path.stem,
        no_ui=args.no_ui,
        jsonl=args.jsonl,
        start=args.start,
        speed=args.speed,
        on_stop=on_stop,
        tell=tell,
        play=play,
    )
