"""``assist live``: the overlay on a live call (microphone = rep, call playback = customer).

Thin on purpose: capture (``assist.audio.mic``) and the session log belong to their own
modules; this wires them to the pipeline and the overlay.
"""

from __future__ import annotations

import argparse

from assist.ui.run import add_call_arguments, open_pipeline, run_call


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "live",
        help="coach a live call in the overlay",
        description="Listen to a live call — the microphone is the rep, the call's playback "
        "(PulseAudio monitor, found by itself) the customer — and show coaching prompts. "
        "Every event is logged (see `assist history`); the scorecard is saved beside the log. "
        "Keys: d dismiss, q end the call.",
    )
    parser.add_argument("--rep-device", default=None, help="microphone NAME or INDEX (see `assist devices`)")
    parser.add_argument("--customer-device", default=None, help="call playback NAME or INDEX")
    parser.add_argument("--mic-only", action="store_true", help="the microphone alone (rep only)")
    parser.add_argument(
        "--record", action="store_true", help="also record the call audio (a WAV beside the log; shown on screen)"
    )
    add_call_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assist.audio.mic import MicSource
    from assist.session_log import RecordingSource, SessionLog

    source = MicSource(args.rep_device, args.customer_device, args.mic_only)
    try:
        with SessionLog.create(source=source.description, speakers=source.speakers) as log:
            if args.record:
                source = RecordingSource(source, log.start_recording(len(source.speakers)))
            pipeline, events, tell = open_pipeline(source, args.model, "realtime", args.rules)
            return run_call(
                events,
                label=source.description,
                scorecard_dir=log.path.parent,
                stem=log.path.stem,
                live=True,
                no_ui=args.no_ui,
                jsonl=args.jsonl,
                on_stop=pipeline.stop,
                record=log.write,
                tell=tell,
            )
    finally:
        source.close()
