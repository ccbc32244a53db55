"""MicSource: alignment, overflow and lost devices with fake streams; real capture through PulseAudio."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pulse_env import CALL_SINK, MIC, REP_SINK, ensure_pulse, load_null_sink, pactl, play, wait_for

from assist.audio import mic
from assist.audio.base import AudioSource
from assist.audio.devices import InputDevice
from assist.audio.mic import BLOCK, MicSource
from assist.errors import AudioError

SHARED = Path(__file__).resolve().parents[2] / "shared"
JFK = SHARED / "speech" / "jfk.flac"
DEVICES = [
    InputDevice("headset", "", 1, "microphone", "portaudio", index=1, default=True),
    InputDevice("call loopback", "", 1, "call", "portaudio", index=2),
    InputDevice("aggregate", "", 2, "microphone", "portaudio", index=3),
]
OVERFLOW = SimpleNamespace(input_overflow=True)


class FakeStream:
    def __init__(self, choice, channels, callback, finished):
        self.choice, self.channels, self.callback, self.finished = choice, channels, callback, finished
        self.active = True

    def feed(self, value: float, blocks: int = 1, status=None) -> None:
        for _ in range(blocks):
            self.callback(np.full((BLOCK, self.channels), value, np.float32), BLOCK, None, status)

    def fail(self) -> None:  # what PortAudio does when the device errors mid-stream
        self.active = False
        self.finished()

    def stop(self):
        self.active = False

    def close(self):
        pass


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def make(clock=None, fail_open=None, **kwargs):
    opened: list[FakeStream] = []

    def factory(choice, channels, callback, finished):
        if fail_open and fail_open(choice):
            raise AudioError(f"cannot open {choice.label}")
        stream = FakeStream(choice, channels, callback, finished)
        opened.append(stream)
        return stream

    kwargs.setdefault("customer_device", "call loopback")
    source = MicSource(stream_factory=factory, devices=DEVICES, clock=clock or Clock(), **kwargs)
    return source, opened


def kinds(chunk):
    return [n.kind for n in chunk.notices]


def test_two_devices_make_two_aligned_columns_rep_first():
    source, (rep, customer) = make()
    assert isinstance(source, AudioSource) and source.paced
    assert source.speakers == ("rep", "customer")
    assert (rep.choice.label, customer.choice.label) == ("headset", "call loopback")
    assert source.read(0).frames == 0  # nothing yet
    rep.feed(0.1, blocks=2)  # the microphone starts first: the call is silence until it starts
    chunk = source.read(0)
    assert chunk.samples.shape == (2 * BLOCK, 2)
    assert np.allclose(chunk.samples[:, 0], 0.1) and not chunk.samples[:, 1].any()
    customer.feed(0.2)
    rep.feed(0.3)
    chunk = source.read(0)
    assert np.allclose(chunk.samples, [0.3, 0.2])
    rep.feed(0.4)
    assert source.read(0).frames == 0  # waits for the other side (within the skew allowance)
    customer.feed(0.5)
    assert np.allclose(source.read(0).samples, [0.4, 0.5])


def test_a_device_that_stalls_briefly_is_padded_with_silence():
    source, (rep, customer) = make()
    rep.feed(0.1)
    customer.feed(0.2)
    source.read(0)
    rep.feed(0.1, blocks=8)  # 0.8 s ahead: more than the skew allowance
    chunk = source.read(0)
    assert chunk.frames == 8 * BLOCK
    assert np.all(chunk.samples[:, 1] == 0) and np.allclose(chunk.samples[:, 0], 0.1)


def test_mic_only_is_one_rep_column():
    source, (stream,) = make(mic_only=True, customer_device=None)
    assert source.speakers == ("rep",) and stream.channels == 1
    stream.feed(0.5)
    assert source.read(0).samples.shape == (BLOCK, 1)


def test_one_stereo_device_carries_both_sides():
    source, (stream,) = make(rep_device="aggregate", customer_device="aggregate")
    assert source.speakers == ("rep", "customer") and stream.channels == 2
    with pytest.raises(AudioError, match="one channel"):
        make(rep_device="headset", customer_device="headset")


def test_no_call_playback_found_says_what_to_pass(monkeypatch):
    monkeypatch.setattr(mic, "find_monitor", lambda: None)  # no PulseAudio: macOS, Windows
    with pytest.raises(AudioError, match="--customer-device, or --mic-only"):
        make(customer_device=None)


def test_overflow_is_counted_and_shown_never_raised():
    clock = Clock()
    source, (stream,) = make(clock, mic_only=True, customer_device=None)
    stream.feed(0.1, blocks=2, status=OVERFLOW)
    chunk = source.read(0)
    assert kinds(chunk) == ["overflow"] and "2 so far" in chunk.notices[0].message
    assert chunk.notices[0].speaker == "rep" and chunk.frames == 2 * BLOCK
    stream.feed(0.1, status=OVERFLOW)
    assert kinds(source.read(0)) == []  # rate-limited...
    clock.now += mic.OVERFLOW_NOTICE_SECONDS
    stream.feed(0.1)
    assert "3 so far" in source.read(0).notices[0].message  # ...but still counted


def test_a_reader_too_far_behind_drops_audio_and_says_so(monkeypatch):
    monkeypatch.setattr(mic, "MAX_QUEUED_SECONDS", 0.5)
    source, (stream,) = make(mic_only=True, customer_device=None)
    stream.feed(0.1, blocks=8)
    chunk = source.read(0)
    assert chunk.frames == 5 * BLOCK and kinds(chunk) == ["overflow"]


def test_the_callback_survives_garbage():
    source, (stream,) = make(mic_only=True, customer_device=None)
    stream.callback(None, 0, None, None)  # would raise inside; must not
    stream.feed(0.1)
    assert source.read(0).frames == BLOCK


def test_device_error_mid_stream_keeps_the_call_going_and_resumes():
    clock = Clock()
    down = {"customer": False}
    source, opened = make(clock, fail_open=lambda c: down["customer"] and c.label == "call loopback")
    rep, customer = opened
    rep.feed(0.1)
    customer.feed(0.2)
    assert source.read(0).frames == BLOCK
    down["customer"] = True
    customer.fail()
    rep.feed(0.1)
    chunk = source.read(0)
    assert kinds(chunk) == ["device_lost"] and chunk.notices[0].speaker == "customer"
    assert "call loopback" in chunk.notices[0].message
    assert chunk.frames == BLOCK and np.all(chunk.samples[:, 1] == 0)  # the rep keeps going
    clock.now += mic.RETRY_SECONDS
    rep.feed(0.1)
    assert kinds(source.read(0)) == []  # still unplugged: retried, no new notice
    down["customer"] = False
    clock.now += mic.RETRY_SECONDS
    chunk = source.read(0)
    assert kinds(chunk) == ["device_back"]
    customer = opened[-1]
    rep.feed(0.3)
    customer.feed(0.4)
    chunk = source.read(0)
    assert np.allclose(chunk.samples[-1], [0.3, 0.4])


def test_a_silent_stall_counts_as_lost_and_call_time_runs_on_in_silence():
    clock = Clock()
    source, (stream,) = make(clock, mic_only=True, customer_device=None, fail_open=lambda c: clock.now > 0)
    clock.now = mic.STALL_SECONDS + 0.1
    assert kinds(source.read(0)) == []  # a stream just opened gets longer to start
    stream.feed(0.1)
    assert source.read(0).frames == BLOCK
    clock.now += mic.STALL_SECONDS + 0.1
    assert kinds(source.read(0)) == ["device_lost"]
    clock.now += 0.5
    chunk = source.read(0)
    assert chunk.frames == 8000 and not chunk.samples.any()  # 0.5 s of silence


def test_close_ends_the_stream():
    source, (stream,) = make(mic_only=True, customer_device=None)
    source.close()
    assert not stream.active and source.read(0) is None


# --- real capture: PulseAudio null sinks stand in for the headset and the call -------------------


@pytest.fixture()
def pulse():
    return ensure_pulse()


def capture(source: MicSource, seconds: float, play_into: str | None = None) -> tuple[np.ndarray, list]:
    """Read for ``seconds`` after the first audio arrives (~2 s after opening), playing JFK into a sink."""
    got, notices, start, player = [], [], None, None
    while start is None or time.monotonic() - start < seconds:
        chunk = source.read(0.2)
        got.append(chunk.samples)
        notices.extend(chunk.notices)
        if start is None and chunk.frames:
            start = time.monotonic()
            player = play(JFK, play_into) if play_into else None
    if player:
        player.kill()
    return np.concatenate(got), notices


def test_real_capture_finds_microphone_and_call_monitor(pulse):
    with MicSource() as source:
        assert source.description == f"rep: {MIC} + customer: {CALL_SINK}.monitor"
        samples, notices = capture(source, 3.0, play_into=CALL_SINK)
    assert samples.shape[1] == 2 and not [n for n in notices if n.kind != "overflow"]
    assert np.abs(samples[:, 1]).max() > 0.1  # the customer's side heard JFK
    assert np.abs(samples[:, 0]).max() < 0.01  # the microphone did not


def test_real_capture_mic_only_hears_the_rep(pulse):
    with MicSource(mic_only=True) as source:
        samples, _ = capture(source, 3.0, play_into=REP_SINK)
    assert samples.shape[1] == 1 and np.abs(samples).max() > 0.1


def test_real_device_unplugged_mid_call_then_back(pulse):
    module = load_null_sink("assist_unplug")
    source = MicSource(customer_device="assist_unplug.monitor")
    try:
        capture(source, 0.5)
        pactl("unload-module", module)
        module = None
        lost: list = []
        assert wait_for(lambda: lost.extend(source.read(0.2).notices) or "device_lost" in [n.kind for n in lost])
        assert next(n for n in lost if n.kind == "device_lost").speaker == "customer"
        module = load_null_sink("assist_unplug")
        back: list = []
        assert wait_for(lambda: back.extend(source.read(0.2).notices) or "device_back" in [n.kind for n in back])
        samples, _ = capture(source, 1.0)
        assert samples.shape[0] > 8000  # captures again
    finally:
        source.close()
        if module:
            pactl("unload-module", module)
