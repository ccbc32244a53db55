"""``assist devices``: the inputs there are, and which is the rep's microphone and which the call."""

from __future__ import annotations

import argparse

from assist.audio.devices import InputDevice, list_input_devices

_ROLE = {"microphone": "rep (microphone)", "call": "customer (call playback)"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list audio input devices",
        description="List audio inputs: the microphone (rep) and the call's playback (customer). "
        "Pass a NAME (or INDEX) to `assist live --rep-device/--customer-device`.",
    )
    parser.set_defaults(func=run)


def format_devices(devices: list[InputDevice]) -> list[str]:
    """One line per device; ``*`` marks what ``assist live`` picks by itself."""
    if not devices:
        return ["no audio input devices found"]
    lines = []
    for backend, title in (("pulse", "PulseAudio/PipeWire sources"), ("portaudio", "PortAudio devices")):
        group = [d for d in devices if d.backend == backend]
        if not group:
            continue
        lines.append(f"{title}:")
        for d in group:
            mark = "*" if d.default else " "
            index = f"{d.index:>3} " if d.index is not None else ""
            lines.append(
                f" {mark} {index}{d.name}  [{_ROLE[d.role]}, {d.channels} ch]  {d.description}"
            )
    lines.append("* = used by `assist live` unless --rep-device/--customer-device say otherwise")
    return lines


def run(args: argparse.Namespace) -> int:
    print("\n".join(format_devices(list_input_devices())))
    return 0
