"""``assist replay`` without a terminal (--no-ui) and its one-line errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from ui_support import CALL_LOG

from assist.cli import main
from assist.events import CallEnd, Tick, to_dict


def test_no_ui_prints_prompts_and_saves_the_scorecard(tmp_path, capsys):
    assert main(["replay", str(CALL_LOG), "--no-ui", "--scorecard-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == (
        "0:04  EMPATHIZE — LET THEM VENT — Acknowledge the news before anything else."
        "  [customer said 'layoffs' · article 000]"
    )
    assert "0:12  ⚠ transcriber 2.1 s behind" in lines
    assert sum(1 for line in lines if "article" in line) == 5
    md = tmp_path / "ui_call.scorecard.md"
    assert f"scorecard: {md}" in err
    assert stat.S_IMODE(md.stat().st_mode) == 0o600


def test_no_ui_jsonl_is_every_event(tmp_path, capsys):
    main(["replay", str(CALL_LOG), "--no-ui", "--jsonl", "--scorecard-dir", str(tmp_path)])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(events) == len(CALL_LOG.read_text().splitlines()) - 1  # all but the header
    assert events[-1] == {"type": "call_end", "at": 42.0, "reason": "end"}


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.flac"), "--no-ui"]) == 2
    assert capsys.readouterr().err.strip() == f"assist: {tmp_path / 'missing.flac'}: no such file"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(CALL_LOG.read_text().splitlines()[0] + '\n{"type": "nope", "at": 1}\n{}\n')
    assert main(["replay", str(bad), "--no-ui"]) == 2
    assert capsys.readouterr().err.strip() == f"assist: {bad}:2: unknown event type 'nope'"
    assert main(["replay", str(CALL_LOG), "--speed", "8"]) == 2
    assert "between 0.5 and 4" in capsys.readouterr().err


def test_audio_file_goes_through_the_pipeline(tmp_path, capsys):
    jfk = Path(__file__).resolve().parents[2] / "shared" / "speech" / "jfk.flac"
    args = ["replay", str(jfk), "--no-ui", "--jsonl", "--clock", "fast", "--scorecard-dir", str(tmp_path)]
    assert main(args) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    words = "".join(e["text"] for e in events if e["type"] == "word").lower()
    assert "fellow americans" in words and "your country" in words
    assert events[-1]["type"] == "call_end"
    card = json.loads((tmp_path / "jfk.scorecard.json").read_text())
    assert card["duration"] >= 10.0


def test_audio_flag_needs_the_overlay_and_a_recording(tmp_path, capsys):
    assert main(["replay", str(CALL_LOG), "--audio", "--no-ui"]) == 2
    assert "drop --no-ui" in capsys.readouterr().err
    assert main(["replay", str(CALL_LOG), "--audio"]) == 2
    assert "no recording beside the log (ui_call.wav)" in capsys.readouterr().err


def long_call_log(tmp_path: Path) -> Path:
    """A session log whose --jsonl output is far more than a pipe holds (64 KiB)."""
    header = CALL_LOG.read_text().splitlines()[0]
    events = [Tick(at=i * 0.25) for i in range(1, 4001)] + [CallEnd(at=1000.0, reason="end")]
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join([header, *(json.dumps(to_dict(e)) for e in events)]) + "\n")
    return path


def test_no_ui_output_into_a_closed_pipe_ends_quietly(tmp_path):
    cards = tmp_path / "cards"
    args = [sys.executable, "-m", "assist", "replay", str(long_call_log(tmp_path)), "--no-ui", "--jsonl",
            "--scorecard-dir", str(cards)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        head = [proc.stdout.readline() for _ in range(12)]  # like `| head -n 12`
        proc.stdout.close()
        err = proc.stderr.read().decode()
        status = proc.wait(timeout=60)
    assert json.loads(head[-1]) == {"type": "tick", "at": 3.0}
    assert status == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    assert f"scorecard: {cards / 'long.scorecard.md'}" in err
    card = json.loads((cards / "long.scorecard.json").read_text())
    assert card["duration"] == 1000.0  # the whole call, not just what the reader took
