"""Which input devices there are, which one is the rep's microphone and which the call.

Two views of the machine's audio inputs:

* PortAudio devices (through sounddevice, imported only here and only when asked), the same
  on Linux, macOS and Windows;
* on Linux with PulseAudio or PipeWire (``pactl`` answers), the server's *sources*: the
  microphones and, for every output, its *monitor* — what the call sounds like. PortAudio
  reaches those through its ``pulse`` device; which source it records is chosen by the
  ``PULSE_SOURCE`` variable at the moment the stream opens (see :mod:`assist.audio.mic`).

A device is named on the command line by PortAudio index, by PulseAudio source name, or by
a unique piece of either's name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from assist.errors import AudioError

Role = Literal["microphone", "call"]
Backend = Literal["pulse", "portaudio"]

# Names that betray a loopback/monitor input on platforms without PulseAudio.
_LOOPBACK_HINTS = ("monitor", "loopback", "blackhole", "soundflower", "stereo mix", "what u hear")
_PACTL_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class InputDevice:
    """One input, as ``assist devices`` shows it and ``--rep-device`` takes it."""

    name: str  # what to type after --rep-device / --customer-device
    description: str
    channels: int
    role: Role  # microphone (the rep) or call (the customer's side)
    backend: Backend
    index: int | None = None  # PortAudio device index
    default: bool = False  # the system's default input (microphone) or the default output's monitor (call)


def import_sounddevice() -> ModuleType:
    """sounddevice, or an :class:`AudioError` saying PortAudio is missing (file replay needs neither)."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # OSError: sounddevice found no libportaudio
        raise AudioError(f"microphone capture needs PortAudio (libportaudio2): {exc}") from None
    return sounddevice


# --- PulseAudio / PipeWire -----------------------------------------------------------------


def _pactl(*args: str) -> str | None:
    """``pactl`` output, or None when there is no pactl or no server to talk to."""
    exe = shutil.which("pactl")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, *args], capture_output=True, text=True, timeout=_PACTL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class PulseSource:
    name: str
    description: str
    channels: int
    monitor_of: str | None  # the sink this source monitors, if it is a monitor


def pulse_sources() -> list[PulseSource] | None:
    """The sound server's sources, or None when no PulseAudio/PipeWire server answers."""
    out = _pactl("-f", "json", "list", "sources")
    if out is not None:
        try:
            return [
                PulseSource(
                    name=s["name"],
                    description=s.get("description") or s["name"],
                    channels=_channels(s.get("sample_specification", "")),
                    # A monitor source names its sink in ``monitor_source`` (sic).
                    monitor_of=s.get("monitor_source") or None,
                )
                for s in json.loads(out)
            ]
        except (ValueError, KeyError, TypeError):
            pass
    out = _pactl("list", "short", "sources")  # older pactl: no JSON
    if out is None:
        return None
    sources = []
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) >= 4:
            name = cols[1]
            monitor_of = name.removesuffix(".monitor") if name.endswith(".monitor") else None
            sources.append(PulseSource(name, name, _channels(cols[3]), monitor_of))
    return sources


def _channels(spec: str) -> int:
    """``"s16le 2ch 44100Hz"`` → 2."""
    for part in spec.split():
        if part.endswith("ch") and part[:-2].isdigit():
            return int(part[:-2])
    return 1


def _pulse_defaults() -> tuple[str | None, str | None]:
    """(default sink, default source) of the sound server."""
    out = _pactl("info") or ""
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip() or None
    return values.get("Default Sink"), values.get("Default Source")


def find_monitor(sources: list[PulseSource] | None = None) -> str | None:
    """The source that hears the call: the monitor of the default output, if there is one."""
    sources = pulse_sources() if sources is None else sources
    if not sources:
        return None
    sink, _ = _pulse_defaults()
    monitors = [s for s in sources if s.monitor_of]
    for s in monitors:
        if s.monitor_of == sink:
            return s.name
    return monitors[0].name if len(monitors) == 1 else None


def default_microphone(sources: list[PulseSource] | None = None) -> str | None:
    """The server's default source unless it is a monitor (then the first real input)."""
    sources = pulse_sources() if sources is None else sources
    if not sources:
        return None
    _, default = _pulse_defaults()
    mics = [s for s in sources if not s.monitor_of]
    for s in mics:
        if s.name == default:
            return s.name
    return mics[0].name if mics else None


def pulse_source_exists(name: str) -> bool:
    sources = pulse_sources()
    return bool(sources) and any(s.name == name for s in sources or ())


# --- the list -------------------------------------------------------------------------------


def list_input_devices(*, portaudio: bool = True) -> list[InputDevice]:
    """Every input, PulseAudio sources first (they are what to use on Linux), then PortAudio's."""
    devices: list[InputDevice] = []
    sources = pulse_sources()
    if sources:
        monitor, mic = find_monitor(sources), default_microphone(sources)
        for s in sources:
            role: Role = "call" if s.monitor_of else "microphone"
            devices.append(
                InputDevice(
                    name=s.name,
                    description=s.description,
                    channels=s.channels,
                    role=role,
                    backend="pulse",
                    default=s.name in (monitor, mic),
                )
            )
    if portaudio:
        sd = import_sounddevice()
        try:
            default_in = sd.default.device[0]
            found = sd.query_devices()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot list audio devices: {exc}") from None
        for info in found:
            if info["max_input_channels"] < 1:
                continue
            name = info["name"]
            looks_loopback = any(h in name.lower() for h in _LOOPBACK_HINTS)
            devices.append(
                InputDevice(
                    name=name,
                    description=sd.query_hostapis(info["hostapi"])["name"],
                    channels=int(info["max_input_channels"]),
                    role="call" if looks_loopback else "microphone",
                    backend="portaudio",
                    index=int(info["index"]),
                    default=info["index"] == default_in,
                )
            )
    return devices


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """What :mod:`assist.audio.mic` opens: a PortAudio device, and the pulse source behind it."""

    portaudio: int | str | None  # sounddevice ``device=`` argument (None = default)
    pulse_source: str | None  # set PULSE_SOURCE to this while opening
    label: str  # for notices and the status line
    channels: int


def resolve_device(spec: str | None, devices: list[InputDevice] | None = None) -> DeviceChoice:
    """Turn ``--rep-device``/``--customer-device`` text into something to open.

    ``None`` is the default input. Otherwise, in order: a PortAudio index, an exact name, a
    unique piece of a name (PulseAudio sources win over PortAudio devices).
    """
    devices = list_input_devices() if devices is None else devices
    if spec is None:
        for d in devices:
            if d.default and d.role == "microphone":
                return _choice(d, devices)
        return DeviceChoice(None, None, "default input", 1)
    if spec.strip().isdigit():
        for d in devices:
            if d.index == int(spec):
                return _choice(d, devices)
        raise AudioError(f"no input device with index {spec}: run `assist devices`")
    exact = [d for d in devices if d.name == spec]
    matches = exact or [d for d in devices if spec.lower() in d.name.lower()]
    pulse = [d for d in matches if d.backend == "pulse"]
    matches = pulse or matches
    if len(matches) == 1:
        return _choice(matches[0], devices)
    if not matches:
        raise AudioError(f"no input device matches {spec!r}: run `assist devices`")
    names = ", ".join(repr(d.name) for d in matches[:4])
    raise AudioError(f"input device {spec!r} is ambiguous ({names}): give more of the name")


def _choice(device: InputDevice, devices: list[InputDevice]) -> DeviceChoice:
    if device.backend == "portaudio":
        return DeviceChoice(device.index, None, device.name, device.channels)
    # PortAudio reaches PulseAudio sources through its ALSA "pulse" device.
    bridge = next((d for d in devices if d.backend == "portaudio" and d.name == "pulse"), None)
    if bridge is None:
        raise AudioError(
            f"PulseAudio source {device.name!r} found but PortAudio has no 'pulse' device "
            "(install libasound2-plugins)"
        )
    return DeviceChoice(bridge.index, device.name, device.name, device.channels)


__all__ = [
    "DeviceChoice",
    "InputDevice",
    "PulseSource",
    "default_microphone",
    "find_monitor",
    "import_sounddevice",
    "list_input_devices",
    "pulse_source_exists",
    "pulse_sources",
    "resolve_device",
]
