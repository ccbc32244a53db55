"""A call recording as an audio source: any file PyAV decodes, resampled to 16 kHz float32.

Channels: mono → one speaker (``unknown``); stereo → ``rep`` (left), ``customer`` (right).
A stereo file whose two channels are the same signal (a mono recording stored as stereo,
like ``jfk.flac``) is one speaker too (:attr:`FileSource.dual_mono`).
A file with more than two channels uses the first two (left = rep, right = customer) and
says so in an ``info`` notice on its first chunk.

Unpaced (the default), :meth:`FileSource.read` returns blocks as fast as they decode.
Paced (``paced=True``, ``--realtime``), audio is released at the speed of the world times
``speed`` (settable while running, 0.5×–4×), and :meth:`pause`/:meth:`resume` hold it.
``start`` skips that many seconds first: event times are then seconds of the file (the
pipeline starts its call clock at :attr:`FileSource.time_offset`).

Errors (:class:`assist.errors.AudioError`, one line): missing file, not audio, no audio
stream, no samples; a file that ends before its header says (truncated) or fails to decode
midway raises when the stream reaches that point.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assist.audio.base import SAMPLE_RATE, Chunk, NoticeInfo
from assist.errors import AudioError
from assist.events import Speaker

MIN_SPEED, MAX_SPEED = 0.5, 4.0


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0].rstrip(".")


def _check_wav_size(path: Path) -> None:
    """A RIFF/WAVE file whose data chunk is shorter than its header says is truncated.

    (ffmpeg estimates such a file's duration from its size, so the decoded length alone
    cannot tell.)
    """
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return
            size = path.stat().st_size
            rate_bytes = 0
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return
                cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(length)
                    if len(fmt) >= 12:
                        rate_bytes = struct.unpack("<I", fmt[8:12])[0]
                    f.seek(length - len(fmt) + (length & 1), 1)
                    continue
                if cid == b"data":
                    have = size - f.tell()
                    if length in (0, 0xFFFFFFFF) or have >= length:
                        return  # streaming placeholder or complete
                    declared = f" of the {length / rate_bytes:.1f} s its header declares" if rate_bytes else ""
                    got = f"{have / rate_bytes:.1f} s" if rate_bytes else f"{have} bytes"
                    raise AudioError(f"{path.name}: truncated: {got}{declared}")
                f.seek(length + (length & 1), 1)
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({_reason(exc)})") from None


class FileSource:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        paced: bool = False,
        speed: float = 1.0,
        start: float = 0.0,
        block: float = 0.1,
    ) -> None:
        import av

        self.path = Path(path)
        self.name = self.path.name
        if not self.path.exists():
            raise AudioError(f"{path}: no such file")
        if self.path.is_dir():
            raise AudioError(f"{path}: is a directory, not an audio file")
        _check_wav_size(self.path)
        try:
            self._container = av.open(str(self.path), mode="r", metadata_errors="ignore")
        except Exception as exc:
            raise AudioError(f"{self.name}: not an audio file PyAV can read ({_reason(exc)})") from None
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            raise AudioError(f"{self.name}: no audio stream")
        self._stream = streams[0]
        ctx = self._stream.codec_context
        self.file_channels = int(getattr(ctx, "channels", 0) or ctx.layout.nb_channels or 1)
        self.channels = 1 if self.file_channels == 1 else 2
        self.speakers: tuple[Speaker, ...] = ("unknown",) if self.channels == 1 else ("rep", "customer")
        self.declared = self._declared_duration()
        self.description = self.name
        self.paced = paced
        self.time_offset = max(0.0, float(start))
        self._block = max(1, int(block * SAMPLE_RATE))
        self._decoded = self._decode()
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self._eof = False
        self._closed = False
        self.decoded_samples = 0
        self.delivered = 0  # samples handed out (after the start offset)
        self._notices: list[NoticeInfo] = []
        if self.file_channels > 2:
            self._notices.append(NoticeInfo(
                "info", f"{self.name} has {self.file_channels} channels: using the first two "
                "(left = rep, right = customer)"))
        # Pacing: position = base + (now - since) * speed while running.
        self._lock = threading.Condition()
        self._speed = self._check_speed(speed)
        self._paused = False
        self._base = 0.0
        self._since: float | None = None
        # Fail now, not mid-call, on a file that decodes to nothing.
        self._fill(self._block)
        self.dual_mono = self.channels == 2 and self._detect_dual_mono()
        if self.dual_mono:
            self.channels = 1
            self.speakers = ("unknown",)
            self._buffer = [b[:, :1].copy() for b in self._buffer]
        if self._skip(int(self.time_offset * SAMPLE_RATE)) is False or (self._eof and not self._buffered):
            if self.decoded_samples == 0:
                raise AudioError(f"{self.name}: contains no audio")
            raise AudioError(f"{self.name}: start {self.time_offset:.1f} s is past the end "
                             f"({self.decoded_samples / SAMPLE_RATE:.1f} s)")

    def _detect_dual_mono(self, seconds: float = 30.0) -> bool:
        """Two identical channels (a mono recording stored as stereo): one speaker."""
        self._fill(int(seconds * SAMPLE_RATE))
        if not self._buffer:
            return False
        audio = np.concatenate(self._buffer)
        left, right = audio[:, 0], audio[:, 1]
        loud = (np.abs(left) + np.abs(right)) > 1e-3
        if loud.sum() < SAMPLE_RATE // 4:
            return False  # nothing to judge by: keep two channels
        left, right = left[loud].astype(np.float64), right[loud].astype(np.float64)
        lo, ro = np.sqrt(np.mean(left**2)), np.sqrt(np.mean(right**2))
        if min(lo, ro) <= 0.5 * max(lo, ro):
            return False
        corr = float(np.dot(left, right) / (np.linalg.norm(left) * np.linalg.norm(right) + 1e-12))
        return corr >= 0.98  # jfk.flac: 0.9996 (44.1 kHz dual mono); a call: far lower

    def _declared_duration(self) -> float | None:
        s = self._stream
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        if self._container.duration:
            return self._container.duration / 1_000_000
        return None

    # -- decoding ---------------------------------------------------------------------------
    def _decode(self) -> Iterator[np.ndarray]:
        import av

        resampler = av.AudioResampler(format="fltp", layout=self._stream.codec_context.layout, rate=SAMPLE_RATE)
        try:
            for packet in self._container.demux(self._stream):
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        yield self._columns(out.to_ndarray())
            for out in resampler.resample(None):
                yield self._columns(out.to_ndarray())
        except av.error.FFmpegError as exc:
            at = self.decoded_samples / SAMPLE_RATE
            raise AudioError(f"{self.name}: corrupt or truncated audio at {at:.1f} s ({_reason(exc)})") from None

    def _columns(self, planar: np.ndarray) -> np.ndarray:
        planar = np.asarray(planar, dtype=np.float32).reshape(self.file_channels, -1)
        return np.ascontiguousarray(planar[: self.channels].T)

    def _fill(self, samples: int) -> None:
        """Decode until ``samples`` are buffered or the file ends."""
        while self._buffered < samples and not self._eof:
            try:
                block = next(self._decoded)
            except StopIteration:
                self._eof = True
                self._check_complete()
                break
            if len(block):
                self._buffer.append(block)
                self._buffered += len(block)
                self.decoded_samples += len(block)

    def _check_complete(self) -> None:
        decoded = self.decoded_samples / SAMPLE_RATE
        if decoded == 0:
            raise AudioError(f"{self.name}: contains no audio")
        if self.declared and decoded < self.declared - max(0.5, 0.02 * self.declared):
            raise AudioError(
                f"{self.name}: truncated: decoded {decoded:.1f} s of the {self.declared:.1f} s "
                "its header declares"
            )

    def _take(self, samples: int) -> np.ndarray:
        self._fill(samples)
        take = min(samples, self._buffered)
        if take == 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        joined = np.concatenate(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        out, rest = joined[:take], joined[take:]
        self._buffer = [rest] if len(rest) else []
        self._buffered = len(rest)
        return out

    def _skip(self, samples: int) -> bool:
        while samples > 0:
            got = len(self._take(min(samples, SAMPLE_RATE * 10)))
            if got == 0:
                return False
            samples -= got
        return True

    # -- pacing -----------------------------------------------------------------------------
    @staticmethod
    def _check_speed(speed: float) -> float:
        speed = float(speed)
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED}x and {MAX_SPEED}x")
        return speed

    def _position(self, now: float) -> float:
        """Seconds of audio the world has played by ``now`` (paced mode)."""
        if self._since is None or self._paused:
            return self._base
        return self._base + (now - self._since) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the pace (0.5×–4×) from any thread; takes effect at once."""
        speed = self._check_speed(speed)
        with self._lock:
            now = time.monotonic()
            self._base = self._position(now)
            if self._since is not None:
                self._since = now
            self._speed = speed
            self._lock.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._lock:
            if not self._paused:
                self._base = self._position(time.monotonic())
                self._paused = True
                self._lock.notify_all()

    def resume(self) -> None:
        with self._lock:
            if self._paused:
                self._paused = False
                if self._since is not None:
                    self._since = time.monotonic()
                self._lock.notify_all()

    @property
    def position(self) -> float:
        """Seconds of the file delivered so far, start offset included."""
        return self.time_offset + self.delivered / SAMPLE_RATE

    # -- the AudioSource interface ----------------------------------------------------------
    def read(self, timeout: float | None = None) -> Chunk | None:
        if self._closed:
            return None
        notices, self._notices = tuple(self._notices), []
        if not self.paced:
            samples = self._take(self._block)
            if len(samples) == 0 and not notices:
                return None
            self.delivered += len(samples)
            return Chunk(samples, notices)
        return self._read_paced(timeout, notices)

    def _read_paced(self, timeout: float | None, notices: tuple[NoticeInfo, ...]) -> Chunk | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        min_block = SAMPLE_RATE // 50  # 20 ms, like a capture device
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()
            while True:
                if self._closed:
                    return None
                now = time.monotonic()
                due = int(self._position(now) * SAMPLE_RATE) - self.delivered
                if self._eof and self._buffered == 0:
                    return Chunk(np.zeros((0, self.channels), np.float32), notices) if notices else None
                if due >= min_block or (self._eof and due >= self._buffered > 0):
                    break
                if notices:
                    return Chunk(np.zeros((0, self.channels), np.float32), notices)
                wait = 0.05 if self._paused else max((min_block - due) / SAMPLE_RATE / self._speed, 0.002)
                if deadline is not None:
                    left = deadline - now
                    if left <= 0:
                        return Chunk(np.zeros((0, self.channels), np.float32))
                    wait = min(wait, left)
                self._lock.wait(wait)
        samples = self._take(due)
        if len(samples) == 0:
            return None
        self.delivered += len(samples)
        return Chunk(samples, notices)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._lock:
                self._lock.notify_all()
            try:
                self._decoded.close()
            finally:
                self._container.close()


def open_file(path: str | os.PathLike[str], **options) -> FileSource:
    return FileSource(path, **options)


__all__ = ["FileSource", "open_file"]
