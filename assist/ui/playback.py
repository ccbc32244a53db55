"""``replay --audio``: the call played aloud, following the overlay's playhead.

The whole file is decoded up front (16 kHz, a few MB a minute), so the output callback only
reads the playhead (lock-free) and slices an array: it never blocks, decodes or raises. Speed
changes resample by stepping through the samples, which shifts the pitch — fine for a
trainer skimming at 2×, and the words stay exactly in step with the transcript.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assist.audio.base import SAMPLE_RATE
from assist.ui.feed import Playhead


def decode_all(path: Path) -> np.ndarray:
    """The whole file as float32 ``(n, channels)`` at 16 kHz (left = rep, right = customer)."""
    from assist.audio.file import FileSource

    source = FileSource(path)
    blocks = []
    try:
        while (chunk := source.read()) is not None:
            blocks.append(chunk.samples)
    finally:
        source.close()
    return np.concatenate(blocks) if blocks else np.zeros((0, source.channels), np.float32)


def frames_at(samples: np.ndarray, position: float, speed: float, frames: int) -> np.ndarray:
    """``frames`` output frames starting at call time ``position``; silence past either end."""
    index = np.round(position * SAMPLE_RATE + np.arange(frames) * speed).astype(np.int64)
    inside = (index >= 0) & (index < len(samples))
    out = np.zeros((frames, samples.shape[1]), np.float32)
    out[inside] = samples[index[inside]]
    return out


class AudioPlayer:
    """Plays ``samples`` wherever ``playhead`` is; silent while paused."""

    def __init__(self, samples: np.ndarray, playhead: Playhead, device: str | None = None) -> None:
        from assist.audio.devices import import_sounddevice

        sd = import_sounddevice()
        self.samples, self.playhead = samples, playhead
        try:
            self._stream = sd.OutputStream(
                samplerate=SAMPLE_RATE,
                channels=samples.shape[1],
                dtype="float32",
                device=device,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError and friends: one line naming the device
            from assist.errors import AudioError

            raise AudioError(f"cannot play audio on {device or 'the default output'}: {exc}") from None

    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        if self.playhead.paused:
            outdata.fill(0)
            return
        outdata[:] = frames_at(self.samples, self.playhead.position(), self.playhead.speed, frames)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
