"""``assist live --no-ui --jsonl`` for real: PulseAudio plays a recorded call into the microphone
and the call's playback, and the expected prompts, the session log and the scorecard come out.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio
from pulse_env import CALL_SINK, REP_SINK, ensure_pulse, play, wait_for

from assist.audio.base import SAMPLE_RATE
from assist.events import CallEnd, Prompt, Word
from assist.session_log import WavRecorder, list_sessions, read_log

ROOT = Path(__file__).resolve().parents[1]
CALL = ROOT / "audio_fixtures" / "01_layoffs.flac"
SECONDS = 20.0  # to just after "getting laid off" and the rep's sympathy


def write_wav(path: Path, samples: np.ndarray) -> Path:
    recorder = WavRecorder(path, 1)
    recorder.write(samples[:, None])
    recorder.close()
    return path


@pytest.fixture(autouse=True)
def pulse():
    return ensure_pulse()


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[Path, Path]:
    """The fixture's two channels, first SECONDS, as mono WAVs to play into the two sinks."""
    ensure_pulse()
    left, right = decode_audio(str(CALL), SAMPLE_RATE, split_stereo=True)
    d = tmp_path_factory.mktemp("live")
    n = int(SECONDS * SAMPLE_RATE)
    return write_wav(d / "rep.wav", left[:n]), write_wav(d / "customer.wav", right[:n])


class Live:
    """``assist live --no-ui --jsonl`` in a child process, its stdout collected as events."""

    def __init__(self, data_dir: Path, *args: str):
        env = {**os.environ, "ASSIST_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assist", "live", "--no-ui", "--jsonl", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.events: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def finish(self, sig: int) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.reader.join(10)
        return self.proc.returncode, err

    def text(self, speaker: str) -> str:
        """The speaker's committed words, lower case, without punctuation ("focusing. today")."""
        words = (e["text"] for e in self.events if e["type"] == "word" and e["speaker"] == speaker)
        return re.sub(r"[^\w' ]", "", "".join(words).lower())


def test_live_call_through_pulseaudio_gives_the_expected_prompt_log_and_scorecard(sides, tmp_path):
    rep, customer = sides
    live = Live(tmp_path)
    try:
        assert wait_for(lambda: live.events, timeout=60), "no events from assist live"
        players = [play(rep, REP_SINK), play(customer, CALL_SINK)]
        for p in players:
            p.wait(timeout=60)
        # The empathize prompt follows the bad news (ends at ~14.7 s); give the pipeline time.
        wait_for(lambda: any(e["type"] == "prompt" for e in live.events), timeout=15)
        time.sleep(2.0)
    finally:
        code, err = live.finish(signal.SIGINT)  # Ctrl-C: a clean stop
    assert code in (0, 130), err
    prompts = [e["rule"] for e in live.events if e["type"] == "prompt"]
    assert "empathize" in prompts, (prompts, live.text("customer"))
    assert "sorry" in live.text("rep") and "mark" in live.text("rep")
    assert "focusing today" in live.text("customer")
    assert not [e for e in live.events if e["type"] == "notice" and e["kind"] == "device_lost"]

    (log,) = list_sessions(tmp_path / "sessions")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    logged = list(read_log(log))
    assert [e.rule for e in logged if isinstance(e, Prompt)] == prompts
    assert sum(isinstance(e, Word) for e in logged) == sum(e["type"] == "word" for e in live.events)
    assert isinstance(logged[-1], CallEnd)  # Ctrl-C still ends the call properly
    assert list(log.parent.glob(f"{log.stem}.scorecard.*")), "no scorecard after Ctrl-C"


def test_kill_9_mid_call_leaves_a_parseable_log_and_recording(sides, tmp_path):
    rep, customer = sides
    live = Live(tmp_path, "--mic-only", "--record")
    try:
        assert wait_for(lambda: live.events, timeout=60)
        player = play(rep, REP_SINK)
        assert wait_for(lambda: live.text("rep").count(" ") >= 3, timeout=30), live.events[-3:]
    finally:
        live.finish(signal.SIGKILL)
        player.kill()
    (log,) = list_sessions(tmp_path / "sessions")
    logged = list(read_log(log))
    words = [e for e in logged if isinstance(e, Word)]
    assert len(words) >= 3 and all(w.speaker == "rep" for w in words)
    assert not any(isinstance(e, CallEnd) for e in logged)
    notices = [e for e in logged if e.type == "notice" and e.kind == "recording"]
    assert notices and notices[0].at < 1.0  # said on screen from the start
    with wave.open(str(log.with_suffix(".wav"))) as wav:  # valid up to the kill
        assert wav.getnchannels() == 1 and wav.getnframes() > SAMPLE_RATE
