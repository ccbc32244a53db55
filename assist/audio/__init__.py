"""Audio sources: files (:mod:`assist.audio.file`) and microphones (:mod:`assist.audio.mic`).

Every source follows :class:`assist.audio.base.AudioSource`. The microphone module is
imported lazily (it needs PortAudio).
"""

from assist.audio.base import SAMPLE_RATE, ArraySource, AudioSource, Chunk, NoticeInfo

__all__ = ["SAMPLE_RATE", "ArraySource", "AudioSource", "Chunk", "NoticeInfo"]
