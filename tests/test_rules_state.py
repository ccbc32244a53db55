"""Conversation state measured from scripted events."""

from __future__ import annotations

import pytest

from rules_script import Script, run

from assist.events import SpeechEnd, SpeechStart, Tick, Word
from assist.rules.state import ConversationState, StateSettings


def feed(state: ConversationState, events) -> list[str]:
    return [m.name for e in events for m in state.update(e)]


def test_talk_time_share_and_turns_from_vad():
    state = ConversationState()
    moments = feed(state, [
        SpeechStart(at=0.2, speaker="customer", start=0.0), SpeechEnd(at=10.2, speaker="customer", start=0.0, end=10.0),
        SpeechStart(at=10.5, speaker="rep", start=10.3), Tick(at=11.5),
        SpeechEnd(at=14.2, speaker="rep", start=10.3, end=14.0), Tick(at=15.0),
    ])
    v = state.values()
    assert moments == ["rep_turn"]
    assert v["customer_talk"] == pytest.approx(10.0) and v["rep_talk"] == pytest.approx(3.7)
    assert v["rep_share"] == pytest.approx(3.7 / 13.7)
    assert state.response_gap == pytest.approx(0.3) and v["customer_last_turn"] == pytest.approx(10.0)
    # the rep holds the floor, silent since 14 s: the monologue is what was said
    assert v["rep_monologue"] == pytest.approx(14.0 - 10.3) and v["customer_monologue"] == 0


def test_monologue_stops_when_the_holder_does_not_when_the_floor_passes():
    # 01_layoffs: the rep spoke 36.4–39.0, the customer from 39.7; the floor passes only
    # once the customer has talked floor_switch seconds.
    state = ConversationState()
    feed(state, [SpeechStart(at=36.5, speaker="rep", start=36.4), SpeechEnd(at=39.3, speaker="rep", start=36.4, end=39.0),
                 SpeechStart(at=39.8, speaker="customer", start=39.7), Tick(at=40.5)])
    assert state.floor == "rep" and state.values()["rep_monologue"] == pytest.approx(39.0 - 36.4)


def test_backchannel_does_not_take_the_floor_but_counts_as_overlap():
    state = ConversationState()
    feed(state, [SpeechStart(at=0.1, speaker="rep", start=0.0), Tick(at=5.0),
                 SpeechStart(at=5.1, speaker="customer", start=5.0),
                 SpeechEnd(at=5.6, speaker="customer", start=5.0, end=5.4), Tick(at=20.0)])
    assert state.floor == "rep" and state.monologue("rep") == pytest.approx(20.0)
    assert state.overlaps == {"rep": 0, "customer": 1} and state.interruptions == {"rep": 0, "customer": 0}


def test_talking_over_for_long_counts_as_interruption_once():
    state = ConversationState()
    names = feed(state, [SpeechStart(at=0.1, speaker="customer", start=0.0),
                         SpeechStart(at=3.1, speaker="rep", start=3.0)]
                 + [Tick(at=3.0 + i * 0.25) for i in range(1, 16)])
    assert names.count("rep_talks_over") == 1 and state.interruptions["rep"] == 1
    assert state.values()["rep_over_customer"] == pytest.approx(0.75 + 3.0)


def test_heat_decays_and_trends():
    _, engine = run(Script().say("customer", "this is unacceptable and I am upset"), until=4)
    snap = engine.state
    assert snap.heat == pytest.approx(5 * 0.5 ** ((4 - 1.5) / 60), rel=0.1) and snap.heat_trend_label == "rising"
    _, engine = run(Script().say("customer", "this is unacceptable and I am upset"), until=120)
    assert engine.state.heat < 2 and engine.state.heat_trend_label in ("falling", "steady")


def test_customer_not_upset_adds_no_heat_and_questions_count():
    _, engine = run(Script().say("customer", "I'm not upset at all").say("rep", "great, shall we start? ok?"))
    assert engine.state.heat == 0 and engine.state.questions == 2


def test_word_only_streams_are_tracked_without_vad():
    state = ConversationState(StateSettings())
    for i in range(20):
        state.update(Word(at=i * 0.3 + 0.8, speaker="rep", text=" word", start=i * 0.3, end=i * 0.3 + 0.3))
    state.update(Tick(at=6.5))
    assert state.values()["rep_talk"] == pytest.approx(6.0) and state.floor == "rep"


def test_story_open_while_the_customer_talks_or_just_paused():
    state = ConversationState()
    feed(state, [SpeechStart(at=0.1, speaker="customer", start=0.0)])
    assert state.story_open()
    feed(state, [SpeechEnd(at=4.2, speaker="customer", start=0.0, end=4.0), Tick(at=5.0)])
    assert state.story_open() and not state.story_open(at=6.0)


def test_a_short_word_whose_vad_end_comes_late_is_not_talking_over():
    # "Perfect." (0.4 s) over the customer's last words; VAD reports its end 1.5 s later.
    state = ConversationState()
    names = feed(state, [
        SpeechStart(at=0.1, speaker="customer", start=0.0),
        Word(at=4.0, speaker="customer", text=" towels", start=4.5, end=5.0),
        SpeechStart(at=4.9, speaker="rep", start=4.8),
        Word(at=5.6, speaker="rep", text=" Perfect.", start=4.8, end=5.2),
        Word(at=5.7, speaker="customer", text=" soap.", start=5.0, end=5.3),
    ] + [Tick(at=5.75 + i * 0.25) for i in range(8)] + [
        SpeechEnd(at=7.6, speaker="rep", start=4.8, end=5.2),
        SpeechEnd(at=7.6, speaker="customer", start=0.0, end=5.3),
    ])
    assert "rep_talks_over" not in names and state.interruptions["rep"] == 0
    assert state.overlaps["rep"] == 1 and state.floor == "customer"


def test_talking_over_counts_when_the_words_come_after_the_stretch_ended():
    # 04_interrupt on a slow machine: the rep talks 17.0–20.3 over the customer's story, but
    # the customer's words for that stretch are in only after the rep's VAD stretch closed.
    state = ConversationState()
    names = feed(state, [
        Word(at=16.5, speaker="customer", text=" out", start=15.2, end=15.5),
        SpeechStart(at=16.9, speaker="customer", start=16.8),
        SpeechStart(at=17.3, speaker="rep", start=17.0),
        Word(at=18.4, speaker="rep", text=" I", start=17.2, end=17.5),
        Word(at=19.5, speaker="rep", text=" know.", start=17.5, end=20.3),
        Word(at=19.6, speaker="customer", text=" then", start=16.8, end=17.3),
        SpeechEnd(at=20.8, speaker="rep", start=17.0, end=20.3),
        Tick(at=21.0),
    ])
    assert "rep_talks_over" not in names  # the customer's words heard so far end at 17.3
    names = feed(state, [Word(at=21.5, speaker="customer", text=" jamming", start=17.3, end=18.9), Tick(at=21.75)])
    assert names == ["rep_talks_over"] and state.interruptions["rep"] == 1
    # The same stretches seen again later count once.
    assert feed(state, [Word(at=22.0, speaker="customer", text=" often.", start=18.9, end=19.5), Tick(at=22.25)]) == []
    # Words that come in long after the stretch ended are not an overlap any more.
    late = ConversationState()
    feed(late, [SpeechStart(at=0.2, speaker="customer", start=0.0), SpeechStart(at=1.2, speaker="rep", start=1.0),
                Word(at=0.6, speaker="customer", text=" so", start=0.0, end=0.5),
                Word(at=3.5, speaker="rep", text=" right", start=1.0, end=3.0),
                SpeechEnd(at=3.5, speaker="rep", start=1.0, end=3.0), Tick(at=8.0)])
    assert feed(late, [Word(at=8.1, speaker="customer", text=" and", start=0.5, end=3.0), Tick(at=8.25)]) == []
