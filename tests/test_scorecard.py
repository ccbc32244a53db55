"""Turn-taking figures and prompt follow-up, computed from events alone."""

from __future__ import annotations

import json

import pytest
from ui_support import call_events

from assist.errors import AssistError
from assist.events import CallEnd, Dismiss, Prompt, SpeechEnd, SpeechStart, Word
from assist.scorecard import CallStats, build_scorecard, to_markdown, write_scorecard


def turn(speaker, start, end):
    return [
        SpeechStart(at=start + 0.3, speaker=speaker, start=start),
        SpeechEnd(at=end + 0.3, speaker=speaker, start=start, end=end),
    ]


def test_figures_of_the_scripted_call():
    card = build_scorecard(call_events())
    assert card.duration == 42.0
    # customer 0–9, 9.5–18, 23–27; rep 7–8.9, 19.2–22, 28–40
    assert card.customer_talk == pytest.approx(9 + 8.5 + 4)
    assert card.rep_talk == pytest.approx(1.9 + 2.8 + 12)
    assert card.rep_share == pytest.approx(16.7 / 38.2, abs=1e-3)
    assert card.longest_monologue == pytest.approx(12.0)
    # the rep's interjection at 7 s splits the customer's first 18 s into two stories
    assert card.longest_story == pytest.approx(9.0)
    assert (card.rep_interruptions, card.customer_interruptions) == (1, 0)
    assert card.answer_pauses == 2 and card.answer_pause_median == pytest.approx(1.1)
    assert card.questions == 1  # "What else is on your mind?"
    outcome = {p.rule: p.followed for p in card.prompts}
    assert outcome == {
        "empathize": True,  # not talking at 6 s
        "let_them_finish": True,  # stopped at 8.9 s, within 2 s of 7.8 s
        "proceed": True,  # spoke at 19.2 s
        "requalify": False,  # no question after 27.5 s before the end
        "monologue": False,  # still talking at 40 s
    }


def test_pauses_within_a_turn_make_one_monologue():
    stats = CallStats()
    for e in turn("rep", 0.0, 5.0) + turn("rep", 6.0, 12.0):  # 1 s gap: same monologue
        stats.feed(e)
    assert stats.longest_run("rep") == pytest.approx(12.0)
    for e in turn("rep", 15.0, 16.0):  # 3 s gap: a new one
        stats.feed(e)
    assert stats.longest_run("rep") == pytest.approx(12.0)
    assert stats.scorecard().answer_pauses == 0  # nobody to answer


def test_starting_together_is_not_an_interruption():
    stats = CallStats()
    stats.feed(SpeechStart(at=1.3, speaker="customer", start=1.0))
    stats.feed(SpeechStart(at=1.5, speaker="rep", start=1.2))
    assert stats.scorecard().rep_interruptions == 0


def test_longest_stretch_counts_the_open_turn():
    stats = CallStats()
    stats.feed(SpeechStart(at=2.3, speaker="rep", start=2.0))
    stats.now = 32.0
    assert stats.longest_run("rep") == pytest.approx(30.0)


def test_outcome_is_pending_until_its_window_closes():
    stats = CallStats()
    prompt = Prompt(at=1.0, rule="ask_what_else", text="Ask what else is bothering you")
    stats.feed(prompt)
    assert stats.outcome(prompt) is None
    stats.feed(Word(at=5.0, speaker="rep", text=" else?", start=4.0, end=4.4))
    assert stats.outcome(prompt) is True
    unknown = Prompt(at=1.0, rule="no_such_rule", text="?")
    stats.feed(CallEnd(at=6.0))
    assert stats.outcome(unknown) is None


def test_apology_check_and_dismissal():
    events = [
        Prompt(at=1.0, rule="apologise", text="Apologise — sincerely"),
        Dismiss(at=2.0, rule="apologise"),
        Word(at=3.0, speaker="rep", text=" Sorry", start=2.5, end=2.9),
        CallEnd(at=4.0),
    ]
    (outcome,) = build_scorecard(events).prompts
    assert outcome.followed is True and outcome.dismissed


@pytest.mark.parametrize("reply, followed", [
    ("Oh no. I'm so sorry to hear that, that sounds hard", True),  # acknowledged, talking on
    ("Right so anyway about the new shelving line and the pricing", False),  # pitched on
])
def test_empathize_is_followed_by_acknowledging_or_by_silence(reply, followed):
    events = [Prompt(at=10.0, rule="empathize", text="Empathize — let them vent"),
              SpeechStart(at=10.5, speaker="rep", start=10.2)]
    for i, word in enumerate(reply.split()):
        events.append(Word(at=11.0 + 0.3 * i, speaker="rep", text=" " + word, start=10.2 + 0.3 * i,
                           end=10.4 + 0.3 * i))
    events += [SpeechEnd(at=14.5, speaker="rep", start=10.2, end=14.2), CallEnd(at=30.0)]
    (outcome,) = build_scorecard(events).prompts
    assert outcome.followed is followed


def test_written_as_markdown_and_json(tmp_path):
    card = build_scorecard(call_events())
    md, js = write_scorecard(card, tmp_path / "sessions", "call")
    text = md.read_text()
    assert "| Interruptions rep → customer | 1 |" in text
    assert "| 0:27 | Re-qualify now | you asked a question within 20 s | not followed |" in text
    data = json.loads(js.read_text())
    assert data["questions"] == 1 and len(data["prompts"]) == 5
    assert to_markdown(card).count("\n| ") == 10 + 1 + 5 + 1  # figures, header rows, prompts


def test_unwritable_directory_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AssistError, match="cannot write the scorecard"):
        write_scorecard(build_scorecard([]), blocker / "sub", "call")
