"""The playbook against the recorded-call fixtures' scripts, text only (no audio, no model).

The sidecars in audio_fixtures/ say what was said when and which prompts must (or must
not) appear; here the script's words are fed straight to the engine, so this checks the
rules alone. `assist eval` checks the same calls through audio and transcription.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules_script import sidecar_events

from assist.rules import Engine, default_rules_dir, load_pack

FIXTURES = Path(__file__).resolve().parents[1] / "audio_fixtures"
SIDECARS = sorted(FIXTURES.glob("*.json"))


@pytest.mark.skipif(not SIDECARS, reason="no recorded-call fixtures")
@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.stem)
def test_fixture_script_gets_exactly_its_expected_prompts(sidecar: Path):
    data = json.loads(sidecar.read_text())
    engine = Engine(load_pack([default_rules_dir()]))
    prompts = [p for e in sidecar_events(data) for p in engine.feed(e)]

    def within(p, window) -> bool:
        return window["start"] <= p.at <= (window["end"] if window["end"] is not None else float("inf"))

    for want in data["expect"]:
        assert any(p.rule == want["rule"] and within(p, want) for p in prompts), (want, prompts)
    for p in prompts:
        expected = any(p.rule == w["rule"] and within(p, w) for w in data["expect"])
        assert expected or p.rule in data["allow"], f"unexpected {p.rule} at {p.at:.1f}: {p.evidence}"
        assert not any(m["rule"] in (p.rule, "*") and within(p, m) for m in data["must_not"]), p
