"""One speaker's speech, glued: the audio of its turns end to end, the silences between left out.

Offline ``transcribe(vad_filter=True)`` decodes the VAD's speech chunks glued together, so every
phrase is heard after the ones before it. A stream that decodes each turn on its own hears
every phrase cold (the VAD ends a turn at each 250 ms pause): on the real phone call that
cost the agent's side 0.05 of WER. The channel decodes windows of this timeline instead.

Two clocks: *call time* (seconds of the call's audio, what events carry) and *speech time*
(seconds along the glued timeline, what windows are cut in). The timeline is a list of
pieces, each a run of call audio at a place in speech time; :meth:`SpeechTimeline.to_call`
and :meth:`SpeechTimeline.to_speech` map between the two.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from operator import attrgetter
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000


class SampleBuffer:
    """Audio samples numbered from ``first`` to ``end``: appended at the end, read by range,
    dropped from the front. Chunks are joined only when read."""

    def __init__(self, first: int = 0) -> None:
        self._chunks: deque[np.ndarray] = deque()
        self.first = first  # number of the first sample kept
        self.end = first  # number just past the last sample

    def append(self, samples: np.ndarray) -> None:
        self._chunks.append(np.asarray(samples, dtype=np.float32))
        self.end += len(samples)

    def read(self, a: int, b: int) -> np.ndarray:
        """Samples ``a`` to ``b`` (clamped to what is kept)."""
        a, b = max(a, self.first), min(b, self.end)
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        if len(self._chunks) > 1:
            joined = np.concatenate(list(self._chunks))
            self._chunks.clear()
            self._chunks.append(joined)
        return self._chunks[0][a - self.first : b - self.first]

    def drop_before(self, sample: int) -> None:
        keep_from = min(sample, self.end)
        while self._chunks and self.first + len(self._chunks[0]) <= keep_from:
            self.first += len(self._chunks.popleft())
        if self._chunks and self.first < keep_from:
            self._chunks[0] = self._chunks[0][keep_from - self.first :].copy()  # not a view: free it
            self.first = keep_from


@dataclass
class _Piece:
    speech: int  # first sample in speech time
    call: int  # the same sample in call time
    length: int  # samples (the last piece grows while its turn goes on)


_SPEECH, _CALL = attrgetter("speech"), attrgetter("call")  # where a piece starts, in either time


class SpeechTimeline:
    def __init__(self) -> None:
        self._pieces: list[_Piece] = []
        self._audio = SampleBuffer()  # numbered in speech time

    @property
    def end(self) -> float:
        """Speech time of the end of the timeline."""
        return self._audio.end / SAMPLE_RATE

    @property
    def call_end(self) -> float:
        """Call time just after the last sample appended (0 before any)."""
        if not self._pieces:
            return 0.0
        last = self._pieces[-1]
        return (last.call + last.length) / SAMPLE_RATE

    def append(self, call_sample: int, samples: np.ndarray) -> None:
        """Add ``samples`` heard from call sample ``call_sample`` on (never before the last end)."""
        if not len(samples):
            return
        last = self._pieces[-1] if self._pieces else None
        if last is not None and last.call + last.length == call_sample:
            last.length += len(samples)
        else:
            if last is not None and call_sample < last.call + last.length:
                raise ValueError("speech audio must be appended in call-time order")
            self._pieces.append(_Piece(self._audio.end, call_sample, len(samples)))
        self._audio.append(samples)

    def slice(self, t0: float, t1: float) -> np.ndarray:
        """Speech audio from ``t0`` to ``t1`` (speech time)."""
        return self._audio.read(int(round(t0 * SAMPLE_RATE)), int(round(t1 * SAMPLE_RATE)))

    def forget(self, before: float) -> None:
        """Drop the audio before speech time ``before``, and the map of it."""
        self._audio.drop_before(int(round(before * SAMPLE_RATE)))
        drop = bisect_right(self._pieces, self._audio.first, key=_SPEECH) - 1
        if drop > 0:
            del self._pieces[:drop]

    def _piece_at(self, sample: int, start: Callable[[_Piece], int]) -> _Piece | None:
        """The piece holding ``sample``, counted in speech time or call time (``start``)."""
        if not self._pieces:
            return None
        return self._pieces[max(bisect_right(self._pieces, sample, key=start) - 1, 0)]

    def to_call(self, t: float) -> float:
        """Call time of speech time ``t`` (a time past a piece's end stays in that piece)."""
        piece = self._piece_at(int(round(t * SAMPLE_RATE)), _SPEECH)
        if piece is None:
            return t
        return (piece.call + int(round(t * SAMPLE_RATE)) - piece.speech) / SAMPLE_RATE

    def to_speech(self, t: float) -> float:
        """Speech time of call time ``t``; a moment of left-out silence maps to the end of
        the speech before it."""
        sample = int(round(t * SAMPLE_RATE))
        piece = self._piece_at(sample, _CALL)
        if piece is None:
            return 0.0
        offset = min(max(sample - piece.call, 0), piece.length)
        return (piece.speech + offset) / SAMPLE_RATE


__all__ = ["SampleBuffer", "SpeechTimeline"]
