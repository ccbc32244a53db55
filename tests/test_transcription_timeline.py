"""The glued speech timeline: pieces of call audio end to end, and the map between clocks."""

from __future__ import annotations

import numpy as np
import pytest

from assist.transcription.timeline import SampleBuffer, SpeechTimeline

SR = 16_000


def ramp(t0: float, t1: float) -> np.ndarray:
    """Call audio whose every sample holds its own call time."""
    return (np.arange(int(round(t0 * SR)), int(round(t1 * SR))) / SR).astype(np.float32)


def timeline_of(*spans: tuple[float, float]) -> SpeechTimeline:
    tl = SpeechTimeline()
    for a, b in spans:
        tl.append(int(round(a * SR)), ramp(a, b))
    return tl


def test_turns_are_glued_end_to_end_and_times_map_both_ways():
    tl = timeline_of((1.0, 2.0), (5.0, 5.5), (9.0, 10.0))
    assert tl.end == pytest.approx(2.5)
    assert tl.call_end == pytest.approx(10.0)
    audio = tl.slice(0.0, tl.end)
    assert len(audio) == int(2.5 * SR)
    # the silence between turns is not there: the call time jumps
    assert audio[SR - 1] == pytest.approx(2.0 - 1 / SR) and audio[SR] == pytest.approx(5.0)
    for speech, call in [(0.0, 1.0), (0.5, 1.5), (1.0, 5.0), (1.25, 5.25), (1.5, 9.0), (2.4, 9.9)]:
        assert tl.to_call(speech) == pytest.approx(call)
        assert tl.to_speech(call) == pytest.approx(speech)


def test_a_moment_of_left_out_silence_maps_to_the_end_of_the_speech_before():
    tl = timeline_of((1.0, 2.0), (5.0, 5.5))
    assert tl.to_speech(3.0) == pytest.approx(1.0)
    assert tl.to_speech(0.2) == pytest.approx(0.0)


def test_contiguous_audio_extends_one_piece():
    tl = timeline_of((1.0, 2.0), (2.0, 3.0))
    assert tl.to_call(1.5) == pytest.approx(2.5)
    np.testing.assert_array_equal(tl.slice(0.0, 2.0), ramp(1.0, 3.0))


def test_audio_out_of_call_time_order_is_refused():
    tl = timeline_of((1.0, 2.0))
    with pytest.raises(ValueError):
        tl.append(int(1.5 * SR), ramp(1.5, 2.5))


def test_forget_drops_old_audio_and_keeps_the_rest_in_place():
    tl = timeline_of((1.0, 2.0), (5.0, 6.0), (9.0, 10.0))
    tl.forget(1.5)
    assert len(tl.slice(0.0, 1.5)) == 0  # gone
    np.testing.assert_array_equal(tl.slice(1.5, 3.0), np.concatenate([ramp(5.5, 6.0), ramp(9.0, 10.0)]))
    assert tl.to_call(2.5) == pytest.approx(9.5)
    assert tl.to_speech(5.75) == pytest.approx(1.75)


def test_sample_buffer_reads_ranges_and_drops_the_front():
    buf = SampleBuffer(first=100)
    buf.append(np.arange(100, 110, dtype=np.float32))
    buf.append(np.arange(110, 115, dtype=np.float32))
    assert buf.read(105, 112).tolist() == list(range(105, 112))
    buf.drop_before(107)  # inside the (joined) chunk
    assert (buf.first, buf.end) == (107, 115)
    assert buf.read(0, 200).tolist() == list(range(107, 115))  # clamped to what is kept
    assert len(buf.read(120, 130)) == 0
