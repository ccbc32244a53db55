"""``assist transcribe`` end to end with the bundled tiny.en model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from assist import cli
from benchmarks._common import wer
from tests.audio_helpers import JFK, JFK_TEXT, ROOT, STEREO, STEREO_TEXT, read_file, write_audio


def transcribe(capsys, *args: str) -> list[dict]:
    assert cli.main(["transcribe", *map(str, args), "--jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def words(events, speaker=None):
    return [e for e in events if e["type"] == "word" and (speaker is None or e["speaker"] == speaker)]


def text(events, speaker=None):
    return " ".join(e["text"].strip() for e in words(events, speaker))


def test_jfk_gives_the_reference_text(capsys):
    events = transcribe(capsys, JFK)
    assert {e["speaker"] for e in words(events)} == {"unknown"}
    assert wer(JFK_TEXT, text(events)) <= 0.2, text(events)
    assert events[-1]["type"] == "call_end"
    # the simulated clock: every word emitted after it was spoken, most soon after
    lat = sorted(e["at"] - e["end"] for e in words(events))
    assert lat[0] >= 0 and lat[len(lat) // 2] < 1.5


def test_committed_words_are_never_retracted_and_in_order(capsys):
    events = transcribe(capsys, STEREO)
    for speaker in ("rep", "customer"):
        ws = words(events, speaker)
        assert ws
        assert [w["start"] for w in ws] == sorted(w["start"] for w in ws)
        assert all(w["end"] >= w["start"] for w in ws)
        # a partial only ever covers what comes after the committed words
        committed_end = 0.0
        for e in events:
            if e.get("speaker") != speaker:
                continue
            if e["type"] == "word":
                committed_end = e["end"]
            elif e["type"] == "partial" and e["words"]:
                assert e["words"][0]["start"] >= committed_end - 0.05


def test_stereo_puts_each_sentence_on_its_speaker(capsys):
    events = transcribe(capsys, STEREO)
    for speaker, reference in STEREO_TEXT.items():
        assert wer(reference, text(events, speaker)) <= 0.25, (speaker, text(events, speaker))
    assert "horizon" not in text(events, "rep").lower()
    assert "wizard" not in text(events, "customer").lower()


@pytest.mark.parametrize("kind", ["silence", "white noise", "quiet noise"])
def test_silence_and_noise_give_no_words(capsys, tmp_path, kind):
    rng = np.random.default_rng(1)
    n = 16000 * 8
    audio = {"silence": np.zeros(n, np.float32),
             "white noise": (0.3 * rng.standard_normal(n)).astype(np.float32),
             "quiet noise": (0.01 * rng.standard_normal(n)).astype(np.float32)}[kind]
    path = write_audio(tmp_path / "x.wav", np.clip(audio, -1, 1), 16000)
    events = transcribe(capsys, path)
    assert words(events) == []
    assert not [e for e in events if e["type"] == "partial" and e["words"]]


def test_8khz_telephone_audio_works(capsys, tmp_path):
    import av  # noqa: F401  (resampled by the encoder helper)

    _, audio = read_file(JFK)
    x = audio[:, 0]
    narrow = x.reshape(-1, 2).mean(axis=1)  # 16 kHz -> 8 kHz
    path = write_audio(tmp_path / "phone.wav", narrow, 8000)
    events = transcribe(capsys, path)
    assert wer(JFK_TEXT, text(events)) <= 0.3, text(events)


def test_fast_clock_and_plain_output(capsys):
    assert cli.main(["transcribe", str(JFK), "--clock", "fast"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.startswith("[") and "] unknown: " in line for line in out)
    assert wer(JFK_TEXT, " ".join(line.split(": ", 1)[1] for line in out)) <= 0.2


def test_fast_clock_hears_each_side_of_a_stereo_call_as_it_hears_that_side_alone(capsys, tmp_path):
    # The fast clock decodes the two sides at once, on a thread each: the words must be the
    # ones each side gives alone, with the same times, and in order of `at`.
    _, audio = read_file(STEREO)
    both = transcribe(capsys, STEREO, "--clock", "fast")
    assert [e["at"] for e in both] == sorted(e["at"] for e in both)
    for i, speaker in enumerate(("rep", "customer")):
        alone = transcribe(capsys, write_audio(tmp_path / f"{speaker}.wav", audio[:, i], 16000), "--clock", "fast")
        key = [(w["text"], w["start"], w["end"]) for w in words(alone)]
        assert key and [(w["text"], w["start"], w["end"]) for w in words(both, speaker)] == key
    assert wer(STEREO_TEXT["rep"], text(both, "rep")) <= 0.25, text(both, "rep")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assist", "transcribe", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def _one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("assist: ") and needle in lines[0], result.stderr


def test_file_with_no_audio_is_a_one_line_error(tmp_path):
    import wave

    path = tmp_path / "empty.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    _one_line_error(run_cli(str(path)), "no audio")


def test_truncated_file_is_a_one_line_error(tmp_path):
    _, audio = read_file(JFK)
    full = write_audio(tmp_path / "full.wav", audio[:, 0], 16000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 3])
    _one_line_error(run_cli(str(cut)), "truncated")


def test_non_audio_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "readme.mp3"
    path.write_text("hello, I am a text file\n" * 100)
    _one_line_error(run_cli(str(path)), "not an audio file")


def test_missing_file_and_bad_model_are_one_line_errors(tmp_path):
    _one_line_error(run_cli(str(tmp_path / "nope.flac")), "no such file")
    _one_line_error(run_cli(str(JFK), "--model", str(tmp_path)), "model")
    _one_line_error(run_cli(str(JFK), "--model", "large-v3"), "not available offline")
