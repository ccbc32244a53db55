"""Playback follows the playhead: which samples go out for a position and a speed."""

from __future__ import annotations

import numpy as np

from assist.audio.base import SAMPLE_RATE
from assist.ui.playback import frames_at


def test_frames_follow_position_and_speed():
    samples = np.arange(3 * SAMPLE_RATE, dtype=np.float32).reshape(-1, 1)
    out = frames_at(samples, 1.0, 1.0, 4)
    assert out.ravel().tolist() == [SAMPLE_RATE, SAMPLE_RATE + 1, SAMPLE_RATE + 2, SAMPLE_RATE + 3]
    fast = frames_at(samples, 1.0, 2.0, 3)
    assert fast.ravel().tolist() == [SAMPLE_RATE, SAMPLE_RATE + 2, SAMPLE_RATE + 4]


def test_silence_outside_the_recording():
    samples = np.ones((SAMPLE_RATE, 2), np.float32)
    out = frames_at(samples, 0.9999, 1.0, 8)
    assert out.shape == (8, 2)
    assert out[:2].all() and not out[2:].any()
    assert not frames_at(samples, -1.0, 1.0, 4).any()
