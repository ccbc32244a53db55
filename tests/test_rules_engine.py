"""The engine: pure and deterministic, fires on the word, honours cooldown, dismissals, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules_script import Script, fired, run

from assist.events import Dismiss, Notice, Partial, Prompt, Word, WordGuess, from_dict, to_dict
from assist.rules import Engine, default_rules_dir, load_pack

PACK = load_pack([default_rules_dir()])


def eventful_call() -> Script:
    s = Script().say("rep", "hi thanks for taking the call")
    s.say("customer", "I am really upset my order never arrived and there are going to be layoffs")
    s.say("rep", "well that is because the trucking company was late as I told you")
    s.say("customer", "this is unacceptable I want to cancel my account")
    s.say("rep", "right right let me tell you about our plan", at=s.now - 3)
    return s.silence(30)


def test_same_events_give_the_same_prompts():
    script = eventful_call()
    first = [to_dict(p) for p in run(script, engine=Engine(PACK))[0]]
    second = [to_dict(p) for p in run(script, engine=Engine(PACK))[0]]
    assert len(first) >= 5 and first == second


def test_prompts_carry_what_the_overlay_needs():
    prompts, _ = run(eventful_call())
    for p in prompts:
        rule = PACK.rule(p.rule)
        assert (p.text, p.detail, p.article, p.priority, p.ttl) == (
            rule.text, rule.detail, rule.article, rule.priority, rule.ttl)
        assert p.evidence and p.trigger_end is not None and p.at >= p.trigger_end
        assert from_dict(to_dict(p)).evidence == p.evidence


def test_feedback_events_are_ignored_and_dismiss_restarts_the_cooldown():
    engine = Engine(PACK)
    assert engine.feed(Prompt(at=0.5, rule="empathize", text="x")) == []
    assert engine.feed(Notice(at=0.6, kind="info", message="hi")) == []
    s = Script().say("rep", "as I told you before")
    prompts, _ = run(s, engine=engine)
    assert fired(prompts) == ["listen_dont_defend"]
    engine.feed(Dismiss(at=80.0, rule="listen_dont_defend"))  # cooldown 90 s from here
    later = Script(now=100.0).say("rep", "as I told you before")
    again = [p for e in later.events for p in engine.feed(e)]
    assert again == []
    much_later = Script(now=200.0).say("rep", "as I told you before")
    assert fired([p for e in much_later.events for p in engine.feed(e)]) == ["listen_dont_defend"]


def test_max_per_call_and_cooldown():
    s = Script()
    for i in range(6):
        s.say("rep", "as I told you before", at=i * 100.0)
    prompts, _ = run(s)
    assert [round(p.at) for p in prompts] == [2, 102]  # max_per_call = 2


def test_unknown_speaker_words_match_no_speaker_rule():
    prompts, _ = run(Script().say("unknown", "there are going to be layoffs as I told you"))
    assert prompts == []


def test_state_snapshot_for_the_overlay():
    _, engine = run(eventful_call())
    snap = engine.state
    assert snap.talk["rep"] > 5 and snap.talk["customer"] > 5 and 0 < snap.rep_share < 1
    assert snap.monologue[0] in ("rep", "customer", None)
    assert snap.interruptions["rep"] == 1 and snap.questions == 0
    assert snap.stages["000"] == (3, "requalify")  # the bad news, then 30 s of quiet


def test_a_generated_pack_of_many_rules_loads_and_runs(tmp_path: Path):
    lines = []
    for i in range(50):
        lines += ["[[rule]]", f'id = "r{i}"', f'text = "t{i}"', 'article = "x"', 'speaker = "customer"',
                  f'phrases = ["widget number {i}", "gadget{i}*"]', ""]
    (tmp_path / "many.toml").write_text("\n".join(lines))
    engine = Engine(load_pack([tmp_path]))
    out = engine.feed(Word(at=1.0, speaker="customer", text=" gadget7s", start=0.1, end=0.5))
    assert fired(out) == ["r7"]


def _guess(at: float, speaker: str, text: str, start: float) -> Partial:
    words = tuple(WordGuess(" " + w, start + 0.3 * i, start + 0.3 * i + 0.25) for i, w in enumerate(text.split()))
    return Partial(at=at, speaker=speaker, words=words)


def test_a_phrase_in_the_guess_fires_before_it_commits_and_not_again_after(tmp_path):
    (tmp_path / "r.toml").write_text(
        '[[rule]]\nid = "bad_news"\ntext = "Empathize"\narticle = "000"\nspeaker = "customer"\n'
        'phrases = ["layoffs"]\ncooldown = 0\nmax_per_call = 9\n')
    engine = Engine(load_pack([tmp_path]))
    # Its last word may be cut off: a phrase there waits for more speech.
    assert engine.feed(_guess(5.3, "customer", "there are going to be layoffs", 3.0)) == []
    early = engine.feed(_guess(5.6, "customer", "there are going to be layoffs in", 3.0))
    assert fired(early) == ["bad_news"]
    assert early[0].trigger_end == pytest.approx(3.0 + 0.3 * 5 + 0.25) and early[0].at == 5.6
    assert 'customer said "layoffs"' in early[0].evidence
    # The next guess and the commit are the same utterance: no second prompt.
    assert engine.feed(_guess(5.9, "customer", "there are going to be layoffs in our", 3.0)) == []
    committed = [Word(at=6.5, speaker="customer", text=" " + w, start=3.0 + 0.3 * i, end=3.25 + 0.3 * i)
                 for i, w in enumerate("there are going to be layoffs in".split())]
    assert [p for w in committed for p in engine.feed(w)] == []
    # A later utterance fires again, from its commit alone.
    again = engine.feed(Word(at=20.0, speaker="customer", text=" layoffs", start=18.0, end=18.4))
    assert fired(again) == ["bad_news"]


def test_evidence_says_measurements_in_words(tmp_path):
    from assist.rules.state import BOOLEAN_MEASUREMENTS, EVIDENCE, MEASUREMENTS

    assert set(EVIDENCE) == set(MEASUREMENTS) - BOOLEAN_MEASUREMENTS
    (tmp_path / "r.toml").write_text(
        '[[rule]]\nid = "greeted"\nsilent = true\nspeaker = "rep"\nphrases = ["how are you"]\n\n'
        '[[rule]]\nid = "apology"\nsilent = true\nspeaker = "rep"\nphrases = ["sorry"]\n\n'
        '[[rule]]\nid = "r"\ntext = "R"\narticle = "004"\n'
        'when = ["customer_silent >= 1.5", "since_greeted < 60", "since_apology > 60", "rep_share > 0.5", "customer_talk > 0"]\n')
    s = Script().say("rep", "hi how are you doing today my friend").say("customer", "fine").silence(3)
    out = run(s, engine=Engine(load_pack([tmp_path])))[0]
    assert fired(out) == ["r"]
    assert out[0].evidence == ("customer quiet 1.7 s, 3.5 s since greeted, no apology yet, you: 89% of the talk, "
                               "customer has talked 0.3 s in all")
