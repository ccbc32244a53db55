"""The audio source contract: what the pipeline reads, whatever the audio comes from.

A source delivers 16 kHz float32 audio in chunks of shape ``(n, channels)``, one column per
speaker of :attr:`AudioSource.speakers` (``("rep", "customer")`` for a call, ``("unknown",)``
for a mono file, ``("rep",)`` for a microphone alone). Anything the rep should know about
the capture itself (overflow, device lost/back) rides along on the chunk as
:class:`NoticeInfo` values; the pipeline stamps them with call time and emits them as
:class:`assist.events.Notice` events.

Implementations: :mod:`assist.audio.file` (any file PyAV decodes), :mod:`assist.audio.mic`
(sounddevice). Tests use :class:`ArraySource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from assist.events import Notice, Speaker

SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class NoticeInfo:
    """Something about the capture itself; becomes an :class:`assist.events.Notice`.

    ``kind`` is one of :data:`assist.events.NoticeKind` (``overflow``, ``device_lost``,
    ``device_back``, ``info``...); ``speaker`` the channel it concerns, if one.
    """

    kind: str
    message: str
    speaker: Speaker | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A block of audio: float32, shape ``(n, channels)``, 16 kHz; ``n`` may be 0.

    ``notices`` report what happened to the capture before this chunk's samples. A source
    that lost samples (overflow, device gone) should fill the gap with zeros so call time
    stays true, and say so in a notice. An :class:`assist.events.Notice` is accepted too
    (its ``at`` is replaced by the pipeline's call time).
    """

    samples: np.ndarray
    notices: tuple[NoticeInfo | Notice, ...] = ()

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])


@runtime_checkable
class AudioSource(Protocol):
    speakers: tuple[Speaker, ...]
    """One speaker per column of every chunk."""
    description: str
    """For the status line: a file name or device names."""
    paced: bool
    """True when chunks arrive at the speed of the world (microphone, ``--realtime``)."""

    def read(self, timeout: float | None = None) -> Chunk | None:
        """The next chunk; ``None`` once the stream has ended (and on every call after).

        With a ``timeout`` (seconds), a paced source returns an empty chunk if nothing
        arrived in time. Raises :class:`assist.errors.AudioError` on a failure that ends
        the stream (an undecodable file).
        """
        ...

    def close(self) -> None:
        """Release the file or device; idempotent; a ``read`` after it returns ``None``."""
        ...


def empty_chunk(channels: int) -> Chunk:
    return Chunk(np.zeros((0, channels), dtype=np.float32))


class ArraySource:
    """An in-memory, unpaced source: the whole signal at once, in blocks (tests, benchmarks)."""

    paced = False

    def __init__(
        self,
        samples: np.ndarray,
        speakers: tuple[Speaker, ...] | None = None,
        *,
        block: int = 4096,
        description: str = "array",
    ) -> None:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        self._samples = samples
        self.speakers = speakers or (
            ("unknown",) if samples.shape[1] == 1 else ("rep", "customer")
        )
        if len(self.speakers) != samples.shape[1]:
            raise ValueError(f"{samples.shape[1]} channels for speakers {self.speakers}")
        self.description = description
        self._block = block
        self._pos = 0
        self._closed = False

    def read(self, timeout: float | None = None) -> Chunk | None:
        if self._closed or self._pos >= len(self._samples):
            return None
        out = self._samples[self._pos : self._pos + self._block]
        self._pos += len(out)
        return Chunk(out)

    def close(self) -> None:
        self._closed = True


__all__ = ["SAMPLE_RATE", "ArraySource", "AudioSource", "Chunk", "NoticeInfo", "empty_chunk"]
