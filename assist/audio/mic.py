"""Live capture: the rep's microphone and the call's playback, as one :class:`AudioSource`.

Three layouts:

* two devices — the microphone (rep) and the call (customer: the PulseAudio monitor of the
  default output, found by itself, or ``customer_device``), one mono stream each, aligned
  into the two columns of every chunk;
* one stereo device — ``customer_device`` equal to ``rep_device`` (a macOS aggregate device,
  a Windows loopback mix): left = rep, right = customer;
* ``mic_only`` — the microphone alone, one column, speaker ``rep``.

The PortAudio callback only copies samples into a bounded deque and counts; it never blocks
or raises. Everything else — alignment, overflow and lost-device notices, reopening a device
that came back — happens in :meth:`MicSource.read`, on the pipeline's thread.

A device is *lost* when its stream finishes on its own, when its callbacks stop for
:data:`STALL_SECONDS`, or (PulseAudio) when its source disappears — the server would
otherwise quietly move the stream to another source. While lost its column is silence, so call
time keeps running and the other side keeps being transcribed; once it is back, capture
resumes in the same call.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assist.audio.base import SAMPLE_RATE, Chunk, NoticeInfo
from assist.audio.devices import (
    DeviceChoice,
    InputDevice,
    find_monitor,
    import_sounddevice,
    list_input_devices,
    pulse_source_exists,
    resolve_device,
)
from assist.errors import AudioError
from assist.events import Speaker

BLOCK = 1600  # frames per callback: 0.1 s
MAX_QUEUED_SECONDS = 30.0  # beyond this the reader is hopelessly behind: drop and count
STALL_SECONDS = 2.0  # no callback for this long: the device is gone
START_SECONDS = 5.0  # ...but a stream just opened may take ~2 s to deliver its first block
RETRY_SECONDS = 1.0  # how often to try reopening a lost device
PULSE_CHECK_SECONDS = 2.0  # how often to ask the sound server whether a source still exists
MAX_SKEW_SECONDS = 0.5  # two devices further apart than this: pad the late one with silence
OVERFLOW_NOTICE_SECONDS = 2.0  # at most one overflow notice per device this often

# Opens a stream: (choice, channels, callback, finished_callback) -> started stream object
# with ``active``, ``stop()``, ``close()``. Tests pass a fake; the default uses sounddevice.
StreamFactory = Callable[[DeviceChoice, int, Callable[..., None], Callable[[], None]], Any]

# PULSE_SOURCE is process-wide: opening two streams at once must not interleave.
_OPEN_LOCK = threading.Lock()


def open_sounddevice_stream(
    choice: DeviceChoice,
    channels: int,
    callback: Callable[..., None],
    finished: Callable[[], None],
) -> Any:
    sd = import_sounddevice()
    with _OPEN_LOCK:
        saved = os.environ.get("PULSE_SOURCE")
        if choice.pulse_source:
            # libpulse reads PULSE_SOURCE when the ALSA pulse plugin connects the stream.
            os.environ["PULSE_SOURCE"] = choice.pulse_source
        try:
            stream = sd.InputStream(
                device=choice.portaudio,
                channels=channels,
                samplerate=SAMPLE_RATE,
                dtype="float32",
                blocksize=BLOCK,
                callback=callback,
                finished_callback=finished,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"cannot open input device {choice.label!r}: {exc}") from None
        finally:
            if choice.pulse_source:
                if saved is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = saved
    return stream


@dataclass
class _Capture:
    """One open device and what its callback has delivered."""

    choice: DeviceChoice
    channels: int  # opened with this many
    speakers: tuple[Speaker, ...]  # one per column it contributes
    stream: Any = None
    blocks: deque = field(default_factory=deque)
    # Written only by the callback (single writer, so no lock needed):
    last_callback: float = 0.0
    overflows: int = 0  # PortAudio said input overflow
    dropped: int = 0  # blocks the reader never came for
    frames_in: int = 0  # frames appended to ``blocks`` (after the append)
    finished: bool = False
    delivered: bool = False  # a block arrived since the stream was (re)opened
    # Reader side:
    frames_out: int = 0  # frames the reader took from ``blocks``
    reported_overflows: int = 0
    last_overflow_notice: float = -1e9
    lost_since: float | None = None
    last_retry: float = 0.0
    last_pulse_check: float = 0.0
    opened_at: float = 0.0


class MicSource:
    """Capture from the rep's microphone and the call; see the module docstring."""

    paced = True

    def __init__(
        self,
        rep_device: str | None = None,
        customer_device: str | None = None,
        mic_only: bool = False,
        *,
        stream_factory: StreamFactory | None = None,
        devices: list[InputDevice] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_stream = stream_factory or open_sounddevice_stream
        self._clock = clock
        self._wake = threading.Event()
        self._closed = False
        self._emitted_at: float | None = None  # wall time of the last all-silent fill
        self._max_blocks = int(MAX_QUEUED_SECONDS * SAMPLE_RATE / BLOCK)
        self._captures = self._plan(rep_device, customer_device, mic_only, devices)
        self.speakers: tuple[Speaker, ...] = tuple(s for c in self._captures for s in c.speakers)
        self.description = " + ".join(
            f"{'/'.join(c.speakers)}: {c.choice.label}" for c in self._captures
        )
        opened: list[_Capture] = []
        try:
            for cap in self._captures:
                self._start(cap)
                opened.append(cap)
        except AudioError:
            for cap in opened:
                self._stop(cap)
            raise

    # --- set-up --------------------------------------------------------------------------------

    def _plan(
        self,
        rep_device: str | None,
        customer_device: str | None,
        mic_only: bool,
        devices: list[InputDevice] | None,
    ) -> list[_Capture]:
        if devices is None and self._open_stream is open_sounddevice_stream:
            devices = list_input_devices()
        devices = devices or []
        rep = resolve_device(rep_device, devices)
        if mic_only:
            return [_Capture(rep, 1, ("rep",))]
        if customer_device is not None and customer_device == rep_device:
            if rep.channels < 2:
                raise AudioError(
                    f"input device {rep.label!r} has one channel: it cannot carry both sides"
                )
            return [_Capture(rep, 2, ("rep", "customer"))]
        if customer_device is None:
            monitor = find_monitor()
            if monitor is None:
                raise AudioError(
                    "cannot find the call's playback (no PulseAudio monitor): pass "
                    "--customer-device, or --mic-only (see docs/live-setup.md)"
                )
            customer_device = monitor
        customer = resolve_device(customer_device, devices)
        return [_Capture(rep, 1, ("rep",)), _Capture(customer, 1, ("customer",))]

    def _start(self, cap: _Capture) -> None:
        cap.blocks.clear()
        cap.frames_in = cap.frames_out = 0
        cap.finished = cap.delivered = False
        cap.opened_at = self._clock()
        cap.last_callback = cap.opened_at
        cap.stream = self._open_stream(
            cap.choice, cap.channels, self._callback_for(cap), self._finished_for(cap)
        )

    def _callback_for(self, cap: _Capture) -> Callable[..., None]:
        blocks, max_blocks, wake, clock = cap.blocks, self._max_blocks, self._wake, self._clock

        def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            # Runs on PortAudio's thread: copy, count, wake the reader; nothing that can block.
            try:
                cap.last_callback = clock()
                cap.delivered = True
                if status and getattr(status, "input_overflow", False):
                    cap.overflows += 1
                if len(blocks) >= max_blocks:
                    cap.dropped += 1
                else:
                    blocks.append(indata.copy())
                    cap.frames_in += frames
                wake.set()
            except BaseException:  # noqa: BLE001 - an exception here would kill the stream
                pass

        return callback

    def _finished_for(self, cap: _Capture) -> Callable[[], None]:
        def finished() -> None:
            cap.finished = True
            self._wake.set()

        return finished

    def _stop(self, cap: _Capture) -> None:
        stream, cap.stream = cap.stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception:  # noqa: BLE001 - the device may already be gone; nothing to save
            pass

    # --- reading -------------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> Chunk | None:
        if self._closed:
            return None
        notices: list[NoticeInfo] = []
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            self._check_health(notices)
            samples = self._take()
            if samples is not None and (samples.shape[0] or notices):
                return Chunk(samples, tuple(notices))
            if self._closed:
                return None
            remaining = 0.1 if deadline is None else min(0.1, deadline - self._clock())
            if remaining <= 0:
                return Chunk(np.zeros((0, len(self.speakers)), np.float32), tuple(notices))
            self._wake.wait(remaining)
            self._wake.clear()

    def _check_health(self, notices: list[NoticeInfo]) -> None:
        now = self._clock()
        for cap in self._captures:
            self._check_overflow(cap, now, notices)
            if cap.lost_since is None:
                why = self._lost_reason(cap, now)
                if why:
                    self._stop(cap)
                    cap.lost_since = cap.last_retry = now
                    notices.append(
                        NoticeInfo(
                            "device_lost",
                            f"{cap.choice.label}: {why} — audio so far is kept; waiting for it",
                            self._speaker(cap),
                        )
                    )
            elif now - cap.last_retry >= RETRY_SECONDS:
                cap.last_retry = now
                if cap.choice.pulse_source and not pulse_source_exists(cap.choice.pulse_source):
                    continue  # not back yet; opening would only make ALSA complain
                try:
                    self._start(cap)
                except AudioError:
                    continue
                cap.lost_since = None
                cap.last_pulse_check = now
                notices.append(
                    NoticeInfo("device_back", f"{cap.choice.label}: back", self._speaker(cap))
                )

    def _lost_reason(self, cap: _Capture, now: float) -> str | None:
        stream = cap.stream
        if cap.finished or (stream is not None and not getattr(stream, "active", True)):
            return "device stopped"
        if now - cap.last_callback > (STALL_SECONDS if cap.delivered else START_SECONDS):
            return f"no audio for {now - cap.last_callback:.0f} s"
        if cap.choice.pulse_source and now - cap.last_pulse_check >= PULSE_CHECK_SECONDS:
            cap.last_pulse_check = now
            if not pulse_source_exists(cap.choice.pulse_source):
                return "device removed"
        return None

    def _check_overflow(self, cap: _Capture, now: float, notices: list[NoticeInfo]) -> None:
        total = cap.overflows + cap.dropped
        if total > cap.reported_overflows and now - cap.last_overflow_notice >= OVERFLOW_NOTICE_SECONDS:
            cap.reported_overflows = total
            cap.last_overflow_notice = now
            notices.append(
                NoticeInfo(
                    "overflow",
                    f"{cap.choice.label}: input overflow ({total} so far) — a little audio was lost",
                    self._speaker(cap),
                )
            )

    def _speaker(self, cap: _Capture) -> Speaker | None:
        return cap.speakers[0] if len(cap.speakers) == 1 else None

    def _take(self) -> np.ndarray | None:
        """Whatever can be emitted now, columns aligned; None when nothing is ready.

        A device that has not delivered since it was (re)opened — streams take up to ~2 s to
        start — is silence meanwhile, so the other side is neither held back nor dropped.
        """
        ready = [c for c in self._captures if c.lost_since is None and c.delivered]
        if not any(c.lost_since is None for c in self._captures):
            return self._silence_for_wall_time()
        self._emitted_at = None
        if not ready:
            return None
        # The callback appends on another thread: count, never iterate, the deque.
        queued = {id(c): c.frames_in - c.frames_out for c in self._captures}
        counts = [queued[id(c)] for c in ready]
        n = min(counts)
        if max(counts) - n > MAX_SKEW_SECONDS * SAMPLE_RATE or len(ready) < len(self._captures):
            n = max(counts)  # a device that lags, stalls or is gone: its gap becomes silence
        if n == 0:
            return None
        columns = []
        for cap in self._captures:
            part = self._pop(cap, min(n, queued[id(cap)]) if cap in ready else 0)
            if len(part) < n:
                part = np.concatenate([part, np.zeros((n - len(part), cap.channels), np.float32)])
            columns.append(part)
        return np.concatenate(columns, axis=1) if len(columns) > 1 else columns[0]

    def _pop(self, cap: _Capture, n: int) -> np.ndarray:
        parts, got = [], 0
        while got < n and cap.blocks:
            block = cap.blocks[0]
            if got + len(block) <= n:
                cap.blocks.popleft()
                parts.append(block)
                got += len(block)
            else:
                k = n - got
                parts.append(block[:k])
                cap.blocks[0] = block[k:]
                got = n
        cap.frames_out += got
        if not parts:
            return np.zeros((0, cap.channels), np.float32)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _silence_for_wall_time(self) -> np.ndarray | None:
        """Every device is gone: keep call time running with silence at the real-time rate."""
        now = self._clock()
        if self._emitted_at is None:
            self._emitted_at = now
            return None
        n = int((now - self._emitted_at) * SAMPLE_RATE)
        if n < BLOCK:
            return None
        self._emitted_at += n / SAMPLE_RATE
        return np.zeros((n, len(self.speakers)), np.float32)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for cap in self._captures:
            self._stop(cap)
        self._wake.set()

    def __enter__(self) -> MicSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["BLOCK", "MicSource", "StreamFactory", "open_sounddevice_stream"]
