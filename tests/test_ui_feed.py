"""The replay feed: events handed over at the playhead; pause, speed, seek, next prompt."""

from __future__ import annotations

import pytest
from ui_support import ManualClock, call_events

from assist.events import Dismiss, Prompt, Tick, Word
from assist.ui.feed import SPEEDS, EventFeed


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def started(events, clock, **kwargs) -> EventFeed:
    feed = EventFeed(events, clock=clock, **kwargs)
    feed.start()
    assert feed.wait_produced(timeout=5)
    return feed


def test_events_are_handed_over_at_their_call_time(clock):
    feed = started(call_events(), clock)
    first = feed.poll()
    assert first.position == 0.0 and not first.events
    clock.advance(4.0)
    update = feed.poll()
    assert update.position == pytest.approx(4.0)
    assert update.events and max(e.at for e in update.events) <= 4.0
    assert any(isinstance(e, Prompt) and e.rule == "empathize" for e in update.events)
    assert not feed.poll().events  # nothing twice


def test_pause_stops_the_playhead_and_speed_scales_it(clock):
    feed = started(call_events(), clock)
    feed.toggle_pause()
    clock.advance(10.0)
    assert feed.poll().position == 0.0 and feed.poll().paused
    feed.toggle_pause()
    assert feed.change_speed(+2) == 2.0  # 1 -> 1.5 -> 2
    clock.advance(3.0)
    assert feed.poll().position == pytest.approx(6.0)
    assert feed.change_speed(+10) == SPEEDS[-1] == 4.0
    assert feed.change_speed(-20) == SPEEDS[0] == 0.5


def test_seek_back_resets_and_replays_up_to_the_new_moment(clock):
    feed = started(call_events(), clock, start=20.0)
    shown = feed.poll().events
    feed.seek(5.0)
    update = feed.poll()
    assert update.reset and update.position == pytest.approx(5.0)
    assert [e for e in shown if e.at <= 5.0] == list(update.events)


def test_seek_forward_delivers_the_skipped_events_without_reset(clock):
    feed = started(call_events(), clock)
    feed.seek_by(10.0)
    update = feed.poll()
    assert not update.reset and update.position == pytest.approx(10.0)
    assert any(isinstance(e, Word) and e.at <= 10.0 for e in update.events)


def test_next_prompt_jumps_to_it(clock):
    feed = started(call_events(), clock, start=8.0)
    feed.poll()
    assert feed.next_prompt()
    update = feed.poll()
    assert update.position == pytest.approx(18.6)
    assert isinstance(update.events[-1], Prompt) and update.events[-1].rule == "proceed"
    feed.seek(39.0)
    assert not feed.next_prompt()  # none left


def test_the_end_is_reported_once_everything_is_shown(clock):
    feed = started(call_events(), clock, start=41.0)
    assert not feed.poll().ended
    clock.advance(5.0)
    update = feed.poll()
    assert update.ended and update.position == pytest.approx(42.0)  # not past the last event


def test_the_playhead_stops_at_the_end_so_seeking_back_starts_there(clock):
    feed = started(call_events(), clock, start=41.0)
    clock.advance(30.0)
    assert feed.poll().ended
    feed.seek_by(-5.0)
    update = feed.poll()
    assert update.reset and update.position == pytest.approx(37.0) and not update.ended


def test_an_added_dismissal_is_shown_again_after_a_seek_back(clock):
    feed = started(call_events(), clock, start=8.0)
    shown = feed.poll().events
    feed.add(Dismiss(at=8.0, rule="let_them_finish"))
    clock.advance(1.0)
    assert not any(isinstance(e, Dismiss) for e in feed.poll().events)  # shown already
    feed.seek(0.0)
    clock.advance(9.0)
    update = feed.poll()
    events = update.events
    assert update.reset
    dismissals = [i for i, e in enumerate(events) if isinstance(e, Dismiss)]
    assert len(dismissals) == 1 and events[: dismissals[0]] == tuple(shown)


def test_the_playhead_waits_for_a_slow_source(clock):
    import threading

    gate = threading.Event()

    def slow():
        yield Tick(at=1.0)
        gate.wait(5)
        yield Tick(at=2.0)

    feed = EventFeed(slow(), clock=clock)
    feed.start()
    clock.advance(10.0)
    update = feed.poll()
    assert update.position == 1.0 and update.buffering and not update.ended
    gate.set()
    assert feed.wait_produced(5)
    clock.advance(1.0)
    assert feed.poll().position == pytest.approx(2.0)


def test_live_follows_the_newest_event_and_ignores_controls(clock):
    feed = started([Tick(at=0.25), Tick(at=0.5)], clock, live=True)
    feed.toggle_pause()
    feed.seek(0.0)
    update = feed.poll()
    assert update.position == 0.5 and len(update.events) == 2 and not update.paused


def test_a_failing_source_ends_the_feed_with_its_message(clock):
    def broken():
        yield Tick(at=0.25)
        raise RuntimeError("decoder exploded")

    feed = started(broken(), clock, live=True)
    update = feed.poll()
    assert update.ended and update.error == "decoder exploded"
