"""What the overlay shows, as a pure function of the events and the call time."""

from __future__ import annotations

from ui_support import call_events

from assist.events import Notice, Prompt
from assist.ui.view import CallView


def view_at(position: float) -> CallView:
    view = CallView()
    for event in call_events():
        if event.at > position:
            break
        view.apply(event)
    view.advance(position)
    return view


def test_overlapping_talk_keeps_each_partial_on_its_speakers_line():
    lines = view_at(8.5).transcript()
    assert [speaker for speaker, _, _ in lines] == ["customer", "rep"]
    (_, cust_said, cust_guess), (_, rep_said, rep_guess) = lines
    assert cust_said.endswith("I don't know what") and cust_guess == "to"
    assert rep_said == "Well, our" and rep_guess == "product"


def test_most_urgent_prompt_first_and_expiry_by_ttl():
    view = CallView()
    view.apply(Prompt(at=1.0, rule="a", text="A", priority=1, ttl=5.0))
    view.apply(Prompt(at=2.0, rule="b", text="B", priority=3, ttl=5.0))
    view.advance(2.5)
    assert [s.prompt.rule for s in view.active_prompts()] == ["b", "a"]
    view.advance(5.5)  # "a" is in the last quarter of its time: dimmed
    assert [(s.prompt.rule, s.fading) for s in view.active_prompts()] == [("b", False), ("a", True)]
    view.advance(6.5)
    assert [s.prompt.rule for s in view.active_prompts()] == ["b"]
    assert view.dismiss_top().rule == "b" and view.active_prompts() == []


def test_device_lost_stays_up_until_it_is_back():
    view = CallView()
    view.apply(Notice(at=1.0, kind="device_lost", message="microphone lost", speaker="rep"))
    view.advance(60.0)
    assert [n.message for n in view.warnings()] == ["microphone lost"]
    view.apply(Notice(at=61.0, kind="device_back", message="microphone back", speaker="rep"))
    assert [n.kind for n in view.warnings()] == []
