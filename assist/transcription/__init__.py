"""Streaming transcription: a VAD-gated utterance buffer per speaker, decoded in short
windows, with a LocalAgreement commit policy.

- :mod:`.base` — the interface between the policy and the model (:class:`Decoder`).
- :mod:`.decoder` — :class:`WindowDecoder` (short-window Whisper decode: the real one) and
  :class:`TranscribeDecoder` (faster-whisper's own ``transcribe()``: the naive baseline).
- :mod:`.agreement` — the commit policy, pure (LocalAgreement-n).
- :mod:`.channel` — :class:`ChannelTranscriber`: utterance buffer + decoder + policy for
  one speaker; it decides when a pass is due and what it commits.
"""

from assist.transcription.base import DecodedWord, Decoder, DecodeResult

__all__ = ["DecodeResult", "DecodedWord", "Decoder"]
