"""The session log: every call's events, prompts and dismissals, on the rep's own disk.

One append-only JSON-lines file per call in :func:`sessions_dir` (``$ASSIST_DATA_DIR``, else
``$XDG_DATA_HOME/assist``, else ``~/.local/share/assist``, then ``sessions/``), readable only
by the user (0600). The first line is a header (``"type": "session"``); every other line is
one :func:`assist.events.to_dict` event. Each line goes to the kernel in a single ``write``
as it happens, so a crash or ``kill -9`` leaves a valid log up to the last event; at worst
the very last line is cut, and :func:`read_log` ignores a cut last line.

``--record`` adds a 16-bit WAV of the call audio beside the log (same name, ``.wav``), its
header kept valid after every write for the same reason.
"""

from __future__ import annotations

import json
import os
import threading
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from assist.audio.base import SAMPLE_RATE, AudioSource, Chunk, NoticeInfo
from assist.errors import AssistError
from assist.events import CallEnd, Dismiss, Event, Partial, Prompt, Word, from_dict, to_dict

HEADER_TYPE = "session"
LOG_VERSION = 1
# Partials are superseded guesses (the words that follow are the record); logging them
# would multiply the file size for nothing a replay can use.
NOT_LOGGED: tuple[type[Event], ...] = (Partial,)


def data_dir() -> Path:
    if os.environ.get("ASSIST_DATA_DIR"):
        return Path(os.environ["ASSIST_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "assist"


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def _open_private(path: Path, flags: int) -> int:
    """Create ``path`` exclusively with mode 0600 (whatever the umask) and return the fd."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return fd


class SessionLog:
    """Writer for one call's log; thread-safe (the overlay writes dismissals from its thread)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = _open_private(path, os.O_WRONLY | os.O_APPEND)
        self._write_line(header)

    @classmethod
    def create(
        cls,
        *,
        source: str = "",
        speakers: Iterable[str] = (),
        directory: Path | None = None,
        now: datetime | None = None,
    ) -> SessionLog:
        """A new log named for its start time (local), e.g. ``2026-11-23_16-40-05.jsonl``."""
        now = now or datetime.now(timezone.utc).astimezone()
        directory = directory or sessions_dir()
        stem = now.strftime("%Y-%m-%d_%H-%M-%S")
        header = {
            "type": HEADER_TYPE,
            "version": LOG_VERSION,
            "started": now.isoformat(timespec="seconds"),
            "source": source,
            "speakers": list(speakers),
        }
        for n in range(100):  # two calls in the same second
            path = directory / (f"{stem}.jsonl" if n == 0 else f"{stem}_{n}.jsonl")
            try:
                return cls(path, header)
            except FileExistsError:
                continue
            except OSError as exc:
                raise AssistError(f"cannot write the session log in {directory}: {exc}") from None
        raise AssistError(f"cannot name a new session log in {directory}")

    def write(self, event: Event) -> None:
        if isinstance(event, NOT_LOGGED):
            return
        self._write_line(to_dict(event))

    def _write_line(self, data: dict[str, Any]) -> None:
        line = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._fd is None:
                return  # closed: late events after Ctrl-C are dropped, not an error
            os.write(self._fd, line)  # one write per line: never half a line from us

    @property
    def recording_path(self) -> Path:
        return self.path.with_suffix(".wav")

    def start_recording(self, channels: int) -> WavRecorder:
        """Open the WAV beside the log (wrap the source in :class:`RecordingSource`)."""
        return WavRecorder(self.recording_path, channels)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WavRecorder:
    """16-bit PCM WAV of the call, mode 0600; valid on disk after every :meth:`write`."""

    def __init__(self, path: Path, channels: int) -> None:
        self.path = path
        try:
            fd = _open_private(path, os.O_RDWR)
        except OSError as exc:
            raise AssistError(f"cannot record to {path}: {exc}") from None
        self._file = os.fdopen(fd, "w+b")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._lock = threading.Lock()
        self._closed = False

    def write(self, samples: np.ndarray) -> None:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
        with self._lock:
            if self._closed:
                return
            self._wav.writeframes(pcm.tobytes())  # also rewrites the header's sizes
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wav.close()
            self._file.close()


class RecordingSource:
    """An :class:`AudioSource` passed through unchanged, its audio also written to a WAV.

    The first chunk carries a ``recording`` notice, so the overlay says so from the start.
    """

    def __init__(self, source: AudioSource, recorder: WavRecorder) -> None:
        self._source, self._recorder = source, recorder
        self.speakers, self.description, self.paced = source.speakers, source.description, source.paced
        self._announced = False

    def read(self, timeout: float | None = None) -> Chunk | None:
        chunk = self._source.read(timeout)
        if chunk is None:
            return None
        if chunk.frames:
            self._recorder.write(chunk.samples)
        if not self._announced:
            self._announced = True
            notice = NoticeInfo("recording", f"recording the call audio to {self._recorder.path}")
            chunk = Chunk(chunk.samples, (notice, *chunk.notices))
        return chunk

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            self._recorder.close()


# --- reading --------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, bool]]:
    """(line number, parsed object or None if unparseable, is last line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AssistError(f"cannot read session log {path}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        yield number, data if isinstance(data, dict) else None, number == len(lines)


def read_header(path: Path) -> dict[str, Any]:
    for number, data, _ in _lines(path):
        if data is None or data.get("type") != HEADER_TYPE:
            raise AssistError(f"{path}:{number}: not a session log (no header)")
        return data
    raise AssistError(f"{path}: empty session log")


def read_log(path: Path | str) -> Iterator[Event]:
    """The events of a session log, in order; a cut last line (a killed call) is ignored.

    Raises :class:`AssistError` naming ``file:line`` for anything else that is not an event.
    """
    path = Path(path)
    for number, data, last in _lines(path):
        if number == 1:
            if data is None or data.get("type") != HEADER_TYPE:
                raise AssistError(f"{path}:1: not a session log (no header)")
            continue
        if data is None:
            if last:
                return  # written up to a kill -9
            raise AssistError(f"{path}:{number}: not a JSON object")
        try:
            yield from_dict(data)
        except ValueError as exc:
            raise AssistError(f"{path}:{number}: {exc}") from None


@dataclass
class SessionSummary:
    path: Path
    started: str
    source: str
    duration: float  # seconds of call audio logged
    words: dict[str, int] = field(default_factory=dict)
    prompts: int = 0
    dismissals: int = 0
    ended: str | None = None  # CallEnd reason; None when the call was killed
    recording: Path | None = None


def summarize(path: Path) -> SessionSummary:
    header = read_header(path)
    summary = SessionSummary(
        path=path,
        started=str(header.get("started", "")),
        source=str(header.get("source", "")),
        duration=0.0,
    )
    for event in read_log(path):
        summary.duration = max(summary.duration, event.at)
        if isinstance(event, Word):
            summary.words[event.speaker] = summary.words.get(event.speaker, 0) + 1
        elif isinstance(event, Prompt):
            summary.prompts += 1
        elif isinstance(event, Dismiss):
            summary.dismissals += 1
        elif isinstance(event, CallEnd):
            summary.ended = event.reason
    wav = path.with_suffix(".wav")
    summary.recording = wav if wav.exists() else None
    return summary


def list_sessions(directory: Path | None = None) -> list[Path]:
    """Session logs, oldest first (names sort by start time)."""
    directory = directory or sessions_dir()
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"))


__all__ = [
    "SessionLog",
    "SessionSummary",
    "WavRecorder",
    "data_dir",
    "list_sessions",
    "read_header",
    "read_log",
    "RecordingSource",
    "sessions_dir",
    "summarize",
]
