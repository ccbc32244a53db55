"""Streaming voice activity detection per channel: Silero VAD v6, frame by frame.

The ONNX model ships inside faster-whisper (``faster_whisper/assets/silero_vad_v6.onnx``).
Its input is ``[frames, 576]``: for each 512-sample frame (32 ms at 16 kHz), the 64 samples
before it and the frame; its LSTM state ``h``/``c`` (``[1, 1, 128]`` each) runs along the
frames axis, so feeding one frame at a time with the state carried over gives exactly the
probabilities of one batch run over the whole file (tested).

Turn logic is the streaming form of faster-whisper's ``get_speech_timestamps``: speech
starts on the first frame with probability >= ``threshold``; it ends when the probability has
stayed below ``neg_threshold`` for ``min_silence_ms``. Measured turn-level settings
(DESIGN.md): ``min_silence_ms=250``, ``speech_pad_ms=30``. Times are in samples of this
channel from its first sample; :class:`VadEvent` carries seconds.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 512
CONTEXT = 64


@dataclass(frozen=True, slots=True)
class VadEvent:
    kind: str  # "start" | "end"
    time: float  # seconds: speech start (padded) or end (last voiced moment, padded)
    start: float  # the turn's start (same as ``time`` for a start event)


@lru_cache(maxsize=1)
def _session():
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    opts.log_severity_level = 4
    path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)


_lock = threading.Lock()


class StreamingVAD:
    """One channel's voice activity, fed any number of samples at a time.

    ``feed`` returns the start/end events that the new samples complete. Call ``flush`` at
    the end of the stream to close a turn still open.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        neg_threshold: float | None = None,
        min_silence_ms: int = 250,
        speech_pad_ms: int = 30,
    ) -> None:
        self.threshold = threshold
        self.neg_threshold = neg_threshold if neg_threshold is not None else max(threshold - 0.15, 0.01)
        self.min_silence = min_silence_ms * SAMPLE_RATE // 1000
        self.pad = speech_pad_ms * SAMPLE_RATE // 1000
        self._session = _session()
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.samples = 0  # samples run through the model so far (whole frames)
        self.triggered = False
        self._start = 0  # sample where the open turn started (unpadded)
        self._silence_from = 0  # first quiet sample of the current quiet run, 0 = none
        self._last_end = 0  # padded end of the previous turn (a start never precedes it)
        self._padded_start = 0
        self.voiced_until = 0.0  # seconds: end of the last frame that sounded like speech
        self.probabilities: list[float] | None = None  # set to [] to record (tests, tuning)

    @property
    def speaking(self) -> bool:
        return self.triggered

    def _probs(self, frames: np.ndarray) -> np.ndarray:
        """Speech probability of each row of ``frames`` (``[n, 512]``), state carried on."""
        n = len(frames)
        x = np.concatenate([self._context, frames.reshape(-1)])
        # Row i: the 64 samples before frame i, then frame i.
        rows = x[np.arange(n)[:, None] * FRAME + np.arange(CONTEXT + FRAME)]
        with _lock:
            out, self._h, self._c = self._session.run(
                None, {"input": rows, "h": self._h, "c": self._c}
            )
        self._context = x[-CONTEXT:].copy()
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(self._pending):
            samples = np.concatenate([self._pending, samples])
        n = len(samples) // FRAME
        self._pending = samples[n * FRAME :].copy()
        if n == 0:
            return []
        probs = self._probs(samples[: n * FRAME].reshape(n, FRAME))
        if self.probabilities is not None:
            self.probabilities.extend(float(p) for p in probs)
        events: list[VadEvent] = []
        for p in probs:
            frame_start = self.samples
            self.samples += FRAME
            if p >= self.neg_threshold:
                self.voiced_until = self.samples / SAMPLE_RATE
            if p >= self.threshold:
                self._silence_from = 0
                if not self.triggered:
                    self.triggered = True
                    self._start = frame_start
                    start = max(frame_start - self.pad, self._last_end, 0)
                    events.append(VadEvent("start", start / SAMPLE_RATE, start / SAMPLE_RATE))
                    self._padded_start = start
            elif self.triggered and p < self.neg_threshold:
                if not self._silence_from:
                    self._silence_from = frame_start
                if self.samples - self._silence_from >= self.min_silence:
                    events.append(self._end(self._silence_from))
        return events

    def _end(self, end_sample: int) -> VadEvent:
        end = min(end_sample + self.pad, self.samples)
        self.triggered = False
        self._silence_from = 0
        self._last_end = end
        return VadEvent("end", end / SAMPLE_RATE, self._padded_start / SAMPLE_RATE)

    def flush(self) -> list[VadEvent]:
        """End of stream: close the open turn at the last sample seen."""
        self._pending = np.zeros(0, dtype=np.float32)
        if self.triggered:
            end = self._silence_from or self.samples
            return [self._end(end)]
        return []


__all__ = ["StreamingVAD", "VadEvent"]
