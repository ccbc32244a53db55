"""The session log: private, append-only, readable after a kill -9; history lists it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from assist import cli
from assist.audio.base import ArraySource
from assist.errors import AssistError
from assist.events import CallEnd, Dismiss, Partial, Prompt, Tick, Word, WordGuess
from assist.session_log import (
    SessionLog,
    data_dir,
    list_sessions,
    read_header,
    read_log,
    RecordingSource,
    sessions_dir,
    summarize,
)

EVENTS = [
    Word(at=1.2, speaker="customer", text=" layoffs", start=0.5, end=0.9, probability=0.8),
    Partial(at=1.3, speaker="rep", words=(WordGuess(" oh", 1.0, 1.2),)),
    Tick(at=1.5),
    Prompt(at=1.6, rule="empathize", text="Empathize — let them vent", trigger_end=0.9),
    Dismiss(at=2.0, rule="empathize"),
    Word(at=2.4, speaker="rep", text=" sorry", start=1.9, end=2.2),
    CallEnd(at=3.0, reason="end"),
]


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_where_logs_go(monkeypatch, tmp_path):
    assert sessions_dir() == tmp_path / "data" / "sessions"
    monkeypatch.delenv("ASSIST_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "assist"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "assist"


def test_round_trip_keeps_every_event_but_partials():
    with SessionLog.create(source="mic", speakers=("rep", "customer")) as log:
        for event in EVENTS:
            log.write(event)
    assert list(read_log(log.path)) == [e for e in EVENTS if not isinstance(e, Partial)]
    header = read_header(log.path)
    assert header["source"] == "mic" and header["speakers"] == ["rep", "customer"]


def test_log_is_private_even_with_a_lax_umask():
    old = os.umask(0o022)
    try:
        log = SessionLog.create()
    finally:
        os.umask(old)
    log.close()
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700


def test_each_event_is_on_disk_as_soon_as_it_is_written():
    log = SessionLog.create()
    log.write(EVENTS[0])
    assert list(read_log(log.path)) == [EVENTS[0]]  # before close
    log.close()
    log.write(EVENTS[2])  # after close: dropped, not an error
    assert len(list(read_log(log.path))) == 1


def test_two_calls_in_one_second_get_two_files():
    now = datetime(2026, 11, 23, 16, 0, 0, tzinfo=timezone.utc)
    first, second = SessionLog.create(now=now), SessionLog.create(now=now)
    assert first.path != second.path and list_sessions() == [first.path, second.path]


def test_a_cut_last_line_is_ignored_but_a_bad_middle_line_is_named(data_home):
    log = SessionLog.create()
    log.write(EVENTS[0])
    log.close()
    with log.path.open("ab") as f:
        f.write(b'{"type":"word","at":')
    assert list(read_log(log.path)) == [EVENTS[0]]
    with log.path.open("ab") as f:
        f.write(b'\n{"type":"tick","at":4.0}\n')
    with pytest.raises(AssistError, match=rf"{log.path.name}:3: not a JSON object"):
        list(read_log(log.path))


def test_not_a_log_is_named(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"type":"tick","at":1}\n')
    with pytest.raises(AssistError, match=r"x.jsonl:1: not a session log"):
        list(read_log(path))


WRITER = """
import sys, time
from assist.events import Word
from assist.session_log import SessionLog
log = SessionLog.create(source="killed")
rec = log.start_recording(2)
import numpy as np
i = 0
while True:
    log.write(Word(at=i * 0.1, speaker="rep", text=" word%d" % i, start=i * 0.1, end=i * 0.1 + 0.05))
    rec.write(np.full((160, 2), 0.25, np.float32))
    i += 1
    if i == 50:
        print(log.path, flush=True)
"""


def test_kill_9_mid_call_leaves_a_parseable_log_and_a_playable_wav():
    child = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, text=True)
    path = Path(child.stdout.readline().strip())
    time.sleep(0.3)
    child.send_signal(signal.SIGKILL)
    child.wait()
    events = list(read_log(path))
    assert len(events) >= 50
    assert [e.text for e in events] == [f" word{i}" for i in range(len(events))]
    with wave.open(str(path.with_suffix(".wav"))) as wav:
        assert wav.getnchannels() == 2 and wav.getnframes() >= 50 * 160
        assert stat.S_IMODE(path.with_suffix(".wav").stat().st_mode) == 0o600
    summary = summarize(path)
    assert summary.ended is None and summary.recording == path.with_suffix(".wav")


def test_recording_writes_the_audio_beside_the_log():
    log = SessionLog.create()
    rec = log.start_recording(1)
    rec.write(np.linspace(-1, 1, 1600, dtype=np.float32)[:, None])
    rec.close()
    log.close()
    with wave.open(str(log.recording_path)) as wav:
        pcm = np.frombuffer(wav.readframes(1600), "<i2")
    assert (pcm[0], pcm[-1], wav.getframerate()) == (-32767, 32767, 16000)


def test_a_recorded_source_passes_audio_through_and_says_it_records():
    log = SessionLog.create()
    audio = np.tile(np.float32([[0.5, -0.5]]), (4000, 1))
    source = RecordingSource(ArraySource(audio, block=1600), log.start_recording(2))
    chunks = []
    while (chunk := source.read()) is not None:
        chunks.append(chunk)
    source.close()
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), audio)
    assert [n.kind for c in chunks for n in c.notices] == ["recording"]
    assert str(log.recording_path) in chunks[0].notices[0].message
    with wave.open(str(log.recording_path)) as wav:
        assert (wav.getnchannels(), wav.getnframes()) == (2, 4000)


def test_history_lists_calls_newest_first(capsys):
    for hour in (9, 10):
        now = datetime(2026, 11, 23, hour, 0, 0, tzinfo=timezone.utc)
        with SessionLog.create(now=now, source=f"call{hour}") as log:
            for event in EVENTS[: 6 if hour == 9 else 7]:
                log.write(event)
    assert cli.main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "T10:00" in lines[0] and "end" in lines[0] and "customer 1 rep 1" in lines[0]
    assert "T09:00" in lines[1] and "interrupted" in lines[1]
    assert "  1 prompts" in lines[1]


def test_history_with_no_calls(capsys):
    assert cli.main(["history"]) == 0
    assert "no calls logged yet" in capsys.readouterr().out


def test_log_lines_are_plain_json():
    with SessionLog.create() as log:
        log.write(EVENTS[3])
    lines = log.path.read_text().splitlines()
    assert json.loads(lines[1])["rule"] == "empathize" and json.loads(lines[0])["type"] == "session"
