"""The file source: formats, rates, channels, pacing, and one-line errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assist.audio.base import AudioSource, Chunk
from assist.audio.file import FileSource
from assist.errors import AudioError
from tests.audio_helpers import JFK, STEREO, decode, read_file, write_audio

SR = 16_000


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_file_source_follows_the_protocol():
    src = FileSource(STEREO)
    assert isinstance(src, AudioSource)
    assert src.speakers == ("rep", "customer") and not src.paced
    chunk = src.read()
    assert isinstance(chunk, Chunk) and chunk.samples.dtype == np.float32
    assert chunk.samples.shape[1] == 2
    src.close()
    assert src.read() is None


def test_stereo_wav_matches_faster_whisper_decoding():
    speakers, audio = read_file(STEREO)
    assert speakers == ("rep", "customer")
    ref = decode(STEREO)
    assert audio.shape == ref.shape
    assert np.abs(audio - ref).max() < 1e-3


def test_dual_mono_file_is_one_unknown_speaker():
    # jfk.flac is a mono recording stored as 44.1 kHz stereo with identical channels.
    speakers, audio = read_file(JFK)
    assert speakers == ("unknown",)
    assert audio.shape[1] == 1 and abs(len(audio) / SR - 11.0) < 0.01


@pytest.mark.parametrize("suffix,rate", [(".wav", 8000), (".flac", 22050), (".mp3", 16000),
                                         (".opus", 48000), (".m4a", 44100), (".wav", 16000)])
def test_formats_and_rates_resample_to_16k(tmp_path, suffix, rate):
    path = write_audio(tmp_path / f"tone{suffix}", tone(2.0, rate), rate)
    speakers, audio = read_file(path)
    assert speakers == ("unknown",)
    assert abs(len(audio) / SR - 2.0) < 0.1  # codecs add a little priming/padding
    spectrum = np.abs(np.fft.rfft(audio[: SR, 0]))
    assert abs(np.argmax(spectrum) * SR / SR - 440) <= 2  # 1 s of audio: 1 Hz bins


def test_stereo_channels_stay_apart(tmp_path):
    left, right = tone(1.0, 8000, 300), tone(1.0, 8000, 1000)
    path = write_audio(tmp_path / "call.wav", np.stack([left, right], axis=1), 8000)
    speakers, audio = read_file(path)
    assert speakers == ("rep", "customer")
    peak = [np.argmax(np.abs(np.fft.rfft(audio[:SR, i]))) for i in range(2)]
    assert peak == [300, 1000]


def test_more_than_two_channels_uses_the_first_two_and_says_so(tmp_path):
    x = np.stack([tone(1.0, 16000, f) for f in (300, 1000, 2000, 3000)], axis=1)
    path = write_audio(tmp_path / "quad.wav", x, 16000)
    src = FileSource(path)
    chunk = src.read()
    assert src.speakers == ("rep", "customer")
    assert chunk.notices and "first two" in chunk.notices[0].message
    src.close()


def test_start_offset_skips_audio_and_keeps_file_times():
    src = FileSource(STEREO, start=2.0)
    assert src.time_offset == 2.0
    n = 0
    while (c := src.read()) is not None:
        n += c.frames
    assert abs(n / SR - 3.0) < 0.01
    assert abs(src.position - 5.0) < 0.01


def test_paced_source_runs_at_the_speed_of_the_world_and_speed_changes():
    src = FileSource(STEREO, paced=True, speed=4.0)
    assert src.paced
    t0 = time.monotonic()
    n = 0
    while n < SR:  # 1 s of audio at 4x: 0.25 s
        c = src.read(timeout=0.5)
        assert c is not None
        n += c.frames
    assert 0.15 < time.monotonic() - t0 < 0.6
    src.set_speed(2.0)
    t1 = time.monotonic()
    while n < 2 * SR:  # 1 s more at 2x: 0.5 s
        n += src.read(timeout=0.5).frames
    assert 0.35 < time.monotonic() - t1 < 0.9
    with pytest.raises(ValueError):
        src.set_speed(10)
    src.close()


def test_paced_source_pauses_and_resumes():
    src = FileSource(STEREO, paced=True, speed=4.0)
    src.read(timeout=0.2)
    src.pause()
    time.sleep(0.05)
    before = src.delivered
    got = 0
    for _ in range(4):
        c = src.read(timeout=0.05)
        got += c.frames
    assert got <= SR // 50 + 1 and src.paused  # at most what was due at the pause
    src.resume()
    c = src.read(timeout=0.5)
    assert c.frames > 0 and src.delivered > before
    src.close()


def test_paced_read_times_out_with_an_empty_chunk_and_close_unblocks():
    src = FileSource(STEREO, paced=True, speed=0.5)
    src.read(timeout=0.3)
    c = src.read(timeout=0.0)
    assert c is not None and c.frames == 0
    result = []
    t = threading.Thread(target=lambda: result.append(src.read(timeout=None)))
    src.pause()
    t.start()
    time.sleep(0.1)
    src.close()
    t.join(2)
    assert not t.is_alive() and result == [None]


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        FileSource(tmp_path / "nope.wav")


def test_not_an_audio_file(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all\n" * 50)
    with pytest.raises(AudioError, match="not an audio file"):
        FileSource(path)


def empty_wav(path):
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    return path


def test_file_with_no_audio(tmp_path):
    with pytest.raises(AudioError, match="no audio"):
        FileSource(empty_wav(tmp_path / "empty.wav"))


def test_file_with_no_audio_stream(tmp_path):
    # An image is a container PyAV opens, with no audio stream in it.
    import av

    path = tmp_path / "picture.png"
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width = s.height = 8
        s.pix_fmt = "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((8, 8, 3), np.uint8), format="rgb24")
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(AudioError, match="no audio stream"):
        FileSource(path)


def test_truncated_wav_errors_at_open(tmp_path):
    full = write_audio(tmp_path / "full.wav", tone(4.0, 16000), 16000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    with pytest.raises(AudioError, match="truncated: 2.0 s of the 4.0 s"):
        FileSource(cut)


def test_truncated_mp3_errors_when_the_stream_gets_there(tmp_path):
    full = write_audio(tmp_path / "full.mp3", tone(4.0, 16000), 16000)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    src = FileSource(cut)  # opens: the damage is further in
    with pytest.raises(AudioError, match="truncated"):
        while src.read() is not None:
            pass


def test_truncated_flac_errors(tmp_path):
    full = write_audio(tmp_path / "full.flac", tone(4.0, 16000) + 0.01 * np.random.default_rng(0).standard_normal(64000).astype(np.float32), 16000)
    cut = tmp_path / "cut.flac"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated|corrupt"):
        read_file(cut)
