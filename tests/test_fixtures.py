"""The role-played call fixtures: complete, current with their scripts, and reproducible."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import av
import pytest

from system_tools import tool_missing

from assist.evaluation.fixtures import ANY_RULE, find_fixtures
from assist.rules import default_rules_dir, load_pack

FIXTURES = Path(__file__).resolve().parents[1] / "audio_fixtures"


def _generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_fixtures", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _sidecars() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]


def test_every_script_has_current_audio_and_sidecar():
    scripts = sorted(FIXTURES.glob("[0-9][0-9]_*.toml"))
    assert len(scripts) >= 8
    for script in scripts:
        sidecar = json.loads(script.with_suffix(".json").read_text())
        assert script.with_suffix(".flac").is_file()
        # A script edited without re-running make_fixtures.py would leave stale audio.
        assert sidecar["script_sha256"] == hashlib.sha256(script.read_bytes()).hexdigest(), script.name


def test_calls_are_stereo_of_the_right_length_and_band():
    bands = []
    for side in _sidecars():
        with av.open(str(FIXTURES / side["audio"])) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.channels == 2, side["audio"]
            rate = stream.codec_context.sample_rate
        assert rate == (8000 if side["band"] == "phone" else 16000), side["audio"]
        assert 45 <= side["duration"] <= 120, side["audio"]
        bands.append(side["band"])
    assert bands.count("phone") >= 2


def test_utterances_have_overlaps_pauses_and_hesitations():
    overlaps = hesitations = 0
    for side in _sidecars():
        utts = side["utterances"]
        assert {u["speaker"] for u in utts} == {"rep", "customer"}
        for speaker in ("rep", "customer"):
            mine = [u for u in utts if u["speaker"] == speaker]
            assert all(a["end"] <= b["start"] for a, b in zip(mine, mine[1:])), side["audio"]
        overlaps += sum(
            1 for a in utts for b in utts
            if a["speaker"] == "rep" and b["speaker"] == "customer" and a["start"] < b["end"] and b["start"] < a["end"]
        )
        hesitations += sum(any(w in u["text"].lower().split() for w in ("uh,", "um,", "uh", "um")) for u in utts)
    assert overlaps >= 4
    assert hesitations >= 8


def test_expectations_name_rules_of_the_pack():
    known = {r.id for r in load_pack([default_rules_dir()]).rules} | {ANY_RULE}
    fixtures = find_fixtures([FIXTURES])
    for fx in fixtures:
        for window in (*fx.expect, *fx.must_not):
            assert window.rule in known, f"{fx.name}: unknown rule {window.rule}"
            assert window.start < window.end
        assert fx.allow <= known, fx.name
    friendly = [fx for fx in fixtures if any(w.rule == ANY_RULE for w in fx.must_not)]
    assert friendly and all(not fx.expect for fx in friendly)
    # Every practice of the playbook is exercised by at least one call.
    expected = {w.rule for fx in fixtures for w in fx.expect}
    assert {"empathize", "fall_back", "in_my_shoes", "let_them_finish", "ask_what_else", "clarify",
            "ask_directly", "apologise", "monologue"} <= expected


def test_regeneration_is_bit_identical(tmp_path):
    make = _generator()
    missing = make.tts_tools_missing()
    if missing:
        tool_missing(f"TTS tools missing: {', '.join(missing)}")
    name = "08_friendly"  # the shortest call: a few seconds of TTS
    assert make.main([name, "--out", str(tmp_path)]) == 0
    for suffix in (".flac", ".json"):
        fresh, kept = (tmp_path / (name + suffix)).read_bytes(), (FIXTURES / (name + suffix)).read_bytes()
        assert fresh == kept, f"{name}{suffix} differs when regenerated"


def test_script_errors_name_the_file_and_line(tmp_path):
    make = _generator()
    script = tmp_path / "99_bad.toml"
    script.write_text('[[line]]\nspeaker = "rep"\ntext = "Hello."\n\n[[line]]\nspeaker = "boss"\ntext = "Hi."\n')
    with pytest.raises(make.ScriptError, match=r"99_bad.toml:5: speaker must be"):
        make.load_script(script)
