"""The one interface between the streaming policy and the model.

A :class:`Decoder` turns a window of 16 kHz mono audio into timed words (seconds from the
window's first sample). It knows nothing about utterances, agreement or call time; the
policy (:mod:`assist.transcription.channel`) knows nothing about Whisper. Tests drive the
policy with a fake decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class DecodedWord:
    text: str  # as Whisper spells it, with its leading space (" Americans,")
    start: float
    end: float
    probability: float = 1.0

    def shifted(self, offset: float) -> DecodedWord:
        return DecodedWord(self.text, self.start + offset, self.end + offset, self.probability)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    words: tuple[DecodedWord, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    rejected: str = ""  # why the decode was judged not to be speech ("" = accepted)
    tokens: int = 0  # tokens the kept words cost to generate (a hint for the next budget)

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()


class Decoder(Protocol):
    def decode(self, audio: np.ndarray, max_tokens: int | None = None) -> DecodeResult:
        """Words heard in ``audio`` (float32 mono, 16 kHz), times relative to its start.

        ``max_tokens`` caps what the decoder generates (None: enough for any speech rate),
        in the unit of :attr:`DecodeResult.tokens`; a decoder may ignore it. Returns no
        words for silence, noise or a decode judged to be a hallucination.
        """
        ...


__all__ = ["DecodeResult", "DecodedWord", "Decoder"]
