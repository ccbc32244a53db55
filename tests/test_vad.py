"""Streaming Silero VAD: same probabilities as a batch run, turn boundaries, no false turns."""

from __future__ import annotations

import numpy as np

from assist.vad import StreamingVAD
from tests.audio_helpers import JFK, read_file

SR = 16_000


def feed_all(vad: StreamingVAD, audio: np.ndarray, seed: int = 0):
    rng = np.random.default_rng(seed)
    events, i = [], 0
    while i < len(audio):
        k = int(rng.integers(1, 4000))  # odd sizes: frames straddle reads
        events += vad.feed(audio[i : i + k])
        i += k
    return events + vad.flush()


def test_frame_by_frame_equals_one_batch_run():
    from faster_whisper.vad import get_vad_model

    _, audio = read_file(JFK)
    x = audio[:, 0]
    n = len(x) // 512 * 512
    batch = get_vad_model()(x[:n]).reshape(-1)
    vad = StreamingVAD()
    vad.probabilities = []
    feed_all(vad, x)
    assert np.abs(np.array(vad.probabilities) - batch[: len(vad.probabilities)]).max() < 1e-4


def test_jfk_turns_match_faster_whispers_timestamps():
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    _, audio = read_file(JFK)
    x = audio[:, 0]
    events = feed_all(StreamingVAD(), x)
    starts = [e.time for e in events if e.kind == "start"]
    ends = [e for e in events if e.kind == "end"]
    assert len(starts) == len(ends) >= 3
    ref = get_speech_timestamps(x, VadOptions(min_silence_duration_ms=250, speech_pad_ms=30))
    assert len(ref) == len(ends)
    for r, e in zip(ref, ends):
        assert abs(r["start"] / SR - e.start) < 0.05
        assert abs(r["end"] / SR - e.time) < 0.05
    # an end is reported about min_silence after the last voiced moment, never before
    assert all(e.start < e.time for e in ends)


def test_silence_and_white_noise_open_no_turn():
    rng = np.random.default_rng(0)
    for audio in (np.zeros(SR * 5, np.float32),
                  (0.05 * rng.standard_normal(SR * 5)).astype(np.float32),
                  (0.3 * rng.standard_normal(SR * 5)).astype(np.float32)):
        assert feed_all(StreamingVAD(), audio) == []


def test_flush_closes_an_open_turn():
    _, audio = read_file(JFK)
    vad = StreamingVAD()
    events = vad.feed(audio[: int(1.5 * SR), 0])
    assert [e.kind for e in events] == ["start"] and vad.speaking
    closing = vad.flush()
    assert [e.kind for e in closing] == ["end"] and not vad.speaking
