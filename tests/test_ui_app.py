"""The overlay driven by Textual's Pilot on the scripted call (a clock moved by hand)."""

from __future__ import annotations

import asyncio
import functools
import json
import threading

from textual.containers import VerticalScroll
from textual.widgets import Footer
from ui_support import ManualClock, call_events

from assist.events import CallEnd, Dismiss, Prompt, Tick, Word
from assist.rules import Engine, RulePack, load_pack
from assist.ui.app import AssistApp, ScorecardScreen
from assist.ui.feed import EventFeed
from assist.ui.widgets import MetersBar, PromptPanel, StatusLine, TranscriptPanel

SIZE = (100, 30)
SMALL = (80, 24)  # the smallest terminal the overlay is made for


def synchronously(scenario):
    """Run an async Pilot scenario as a plain test (no pytest-asyncio needed)."""

    @functools.wraps(scenario)
    def test(tmp_path):
        asyncio.run(scenario(tmp_path))

    return test


def rule_free_engine() -> Engine:
    # The meters' state with no rule pack: the screen does not change when rules/*.toml do.
    return Engine(RulePack(rules=()))


def make_app(tmp_path, start=0.0, paused=False, record=None) -> tuple[AssistApp, ManualClock]:
    clock = ManualClock()
    feed = EventFeed(call_events(), clock=clock, start=start, paused=paused)
    app = AssistApp(
        feed,
        source="ui_call.jsonl",
        scorecard_dir=tmp_path,
        stem="call",
        record=record,
        state_engine=rule_free_engine,
    )
    return app, clock


def shown(app: AssistApp, widget) -> str:
    """What the widget shows on screen, its rows joined by spaces (wrapped text reads on)."""
    region = app.query_one(widget).content_region
    rows = screen_lines(app)[region.y : region.bottom]
    return " ".join(" ".join(row[region.x : region.right].split()) for row in rows).strip()


def screen_lines(app: AssistApp) -> list[str]:
    """The terminal as the user sees it, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer(app: AssistApp) -> str:
    """The footer's row of the screen on top."""
    row = app.screen.query_one(Footer).region.y
    return screen_lines(app)[row]


async def until(pilot, condition, what: str) -> None:
    """Let the app run until ``condition()`` holds (the feed works in a thread)."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


async def at(pilot, app, position: float) -> None:
    await until(pilot, lambda: abs(app.view.position - position) < 1e-6, f"position {position}")
    await pilot.pause()


@synchronously
async def test_prompt_appears_with_its_evidence(tmp_path):
    app, clock = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 0.0)
        assert "listening" in shown(app, PromptPanel)
        clock.advance(5.0)
        await at(pilot, app, 5.0)
        text = shown(app, PromptPanel)
        assert "EMPATHIZE — LET THEM VENT" in text
        assert "customer said 'layoffs' · article 000" in text
        assert "cust" in shown(app, TranscriptPanel) and "layoffs" in shown(app, TranscriptPanel)
        assert "0:05" in shown(app, MetersBar)


@synchronously
async def test_dismiss_key_removes_the_top_prompt(tmp_path):
    app, clock = make_app(tmp_path, start=8.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 8.0)
        assert "LET THEM FINISH" in shown(app, PromptPanel)
        await pilot.press("d")
        assert "LET THEM FINISH" not in shown(app, PromptPanel)
        assert app.view.events[-1].type == "dismiss"
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
    dismissed = [p.rule for p in app.result.scorecard.prompts if p.dismissed]
    assert dismissed == ["let_them_finish"]


@synchronously
async def test_prompt_fades_once_acted_on(tmp_path):
    app, clock = make_app(tmp_path, start=5.0)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 5.0)
        assert "EMPATHIZE" in shown(app, PromptPanel)
        clock.advance(1.5)  # the rep kept quiet past 6 s: acted on, long before its 8 s ttl
        await at(pilot, app, 6.5)
        assert "EMPATHIZE" not in shown(app, PromptPanel)


@synchronously
async def test_pause_speed_and_seek_keys(tmp_path):
    app, clock = make_app(tmp_path, start=10.0)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 10.0)
        await pilot.press("space")
        clock.advance(5.0)
        await until(pilot, lambda: "paused" in shown(app, StatusLine), "paused shown")
        assert app.view.position == 10.0
        await pilot.press("space", "plus", "plus")  # resume at 1.5×, then 2×
        await until(pilot, lambda: "2×" in shown(app, StatusLine), "2× shown")
        clock.advance(2.0)
        await at(pilot, app, 14.0)
        await pilot.press("minus")
        await until(pilot, lambda: "1.5×" in shown(app, StatusLine), "1.5× shown")
        await pilot.press("left")  # back 5 s: the view is rebuilt up to 9 s
        await at(pilot, app, 9.0)
        assert all(e.at <= 9.0 for e in app.view.events)
        await pilot.press("right", "right")
        await at(pilot, app, 19.0)
        await pilot.press("n")  # next prompt: re-qualify at 27.5 s
        await at(pilot, app, 27.5)
        assert "RE-QUALIFY NOW" in shown(app, PromptPanel)


@synchronously
async def test_notice_is_visible_while_the_transcriber_is_behind(tmp_path):
    app, clock = make_app(tmp_path, start=13.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 13.0)
        assert "⚠ transcriber 2.1 s behind" in shown(app, StatusLine)
        await pilot.press("space")
        clock.advance(3.0)
        await at(pilot, app, 16.0)
        assert "⚠" not in shown(app, StatusLine)


async def play_to_the_end(pilot, app: AssistApp, clock: ManualClock) -> None:
    """From 41 s, let the 42 s call end and its scorecard come up."""
    clock.advance(2.0)
    await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
    await pilot.pause()


@synchronously
async def test_end_of_call_shows_and_saves_the_scorecard(tmp_path):
    app, clock = make_app(tmp_path, start=41.0)
    async with app.run_test(size=SIZE) as pilot:
        await play_to_the_end(pilot, app, clock)
        text = app.screen.query_one("#saved").content
        assert str(tmp_path / "call.scorecard.md") in str(text)
    card = app.result.scorecard
    assert card.rep_interruptions == 1 and card.questions == 1 and len(card.prompts) == 5
    md = (tmp_path / "call.scorecard.md").read_text()
    assert "| Longest monologue (rep) | 12.0 s |" in md


@synchronously
async def test_quit_key_ends_the_call_early(tmp_path):
    app, clock = make_app(tmp_path, start=10.0, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 10.0)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
    assert app.result.scorecard.duration == 10.0
    assert app.view.ended is not None and app.view.ended.reason == "quit"


@synchronously
async def test_every_key_fits_the_footer_at_80_columns(tmp_path):
    app, clock = make_app(tmp_path, start=8.5, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await at(pilot, app, 8.5)
        text = footer(app)
        assert text.lstrip().startswith("q End  d Dismiss  space Pause")
        for key in ("← −5s", "→ +5s", "- Slower", "+ Faster", "n Next"):
            assert key in text
        assert "palette" not in text  # ctrl+p still works; the space goes to the call's keys


@synchronously
async def test_scorecard_scrolls_with_the_keys_at_80x24(tmp_path):
    app, clock = make_app(tmp_path, start=41.0)
    async with app.run_test(size=SMALL) as pilot:
        await play_to_the_end(pilot, app, clock)
        content = app.screen.query_one("#scorecard", VerticalScroll)
        saved = app.screen.query_one("#saved")
        assert app.focused is content and content.scroll_y == 0
        assert not content.scrollable_content_region.contains_region(saved.region)
        await pilot.press("pagedown")
        await until(pilot, lambda: content.scroll_y > 0, "scrolled a page down")
        await pilot.press("end")
        await until(pilot, lambda: content.scroll_y == content.max_scroll_y, "scrolled to the end")
        await pilot.pause()
        assert content.scrollable_content_region.contains_region(saved.region)
        assert any(line.strip() == "saved:" for line in screen_lines(app))
        await pilot.press("home")
        await until(pilot, lambda: content.scroll_y == 0, "back to the top")


@synchronously
async def test_a_replay_can_be_watched_again_after_its_end(tmp_path):
    app, clock = make_app(tmp_path, start=41.0)
    async with app.run_test(size=SMALL) as pilot:
        clock.advance(2.0)
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
        clock.advance(30.0)  # the trainer reads the scorecard: the playhead stays at the end
        await pilot.press("escape")
        await until(pilot, lambda: "■ ended" in shown(app, StatusLine), "ended shown")
        assert "Dismiss" not in footer(app)  # nothing left to dismiss after the end
        await pilot.press("left")
        await at(pilot, app, 37.0)
        assert app.view.ended is None and not isinstance(app.screen, ScorecardScreen)
        await until(pilot, lambda: "d Dismiss" in footer(app), "dismiss back in the footer")
        await pilot.press("space")
        await until(pilot, lambda: "⏸ paused" in shown(app, StatusLine), "paused shown")
        clock.advance(3.0)
        await pilot.pause(0.1)
        assert app.view.position == 37.0
        await pilot.press("space")
        clock.advance(5.0)  # to the end again: the scorecard again
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard again")
    assert app.result.scorecard.duration == 42.0


@synchronously
async def test_live_after_the_end_hides_the_keys_that_cannot_work(tmp_path):
    feed = EventFeed(call_events(), live=True, clock=ManualClock())
    app = AssistApp(feed, source="mic", scorecard_dir=tmp_path, stem="call", state_engine=rule_free_engine)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
        await pilot.press("escape")
        await until(pilot, lambda: "q End" in footer(app), "back to the call")
        assert footer(app).strip() == "q End"
        await pilot.press("d", "left")
        assert not any(isinstance(e, Dismiss) for e in app.view.events)


# Two articles' sequences, each step reached at a set call time (a rule on every tick).
STAGE_PACK = """
[[rule]]
id = "empathize"
text = "Empathize"
article = "000"
step = 1
on = "tick"
when = ["call_time >= 2"]

[[rule]]
id = "clarify"
text = "Clarify"
article = "001"
step = 1
on = "tick"
when = ["call_time >= 4"]

[[rule]]
id = "verify_promise"
text = "Verify"
article = "001"
step = 2
on = "tick"
when = ["call_time >= 100"]

[[rule]]
id = "proceed"
text = "Proceed"
article = "000"
step = 2
on = "tick"
when = ["call_time >= 6"]
"""


def highlighted(app: AssistApp, widget) -> list[str]:
    text = app.query_one(widget).content
    return [text.plain[span.start : span.end] for span in text.spans if "reverse" in str(span.style)]


@synchronously
async def test_stage_line_shows_the_sequence_the_call_is_in(tmp_path):
    (tmp_path / "stages.toml").write_text(STAGE_PACK)
    pack = load_pack([tmp_path / "stages.toml"])
    ticks = [Tick(at=i * 0.25) for i in range(1, 41)]
    clock = ManualClock()
    feed = EventFeed(list(Engine(pack).coach(ticks)), clock=clock)
    app = AssistApp(
        feed, source="stages", scorecard_dir=tmp_path, stem="call", state_engine=lambda: Engine(pack)
    )
    async with app.run_test(size=SMALL) as pilot:
        clock.advance(1.0)
        await at(pilot, app, 1.0)
        assert "stage —" in shown(app, MetersBar)  # no step reached yet
        clock.advance(2.0)
        await at(pilot, app, 3.0)
        assert "stage empathize › proceed" in shown(app, MetersBar)
        assert highlighted(app, MetersBar) == ["empathize"]
        clock.advance(2.0)
        await at(pilot, app, 5.0)
        assert "stage clarify › verify" in shown(app, MetersBar)
        assert highlighted(app, MetersBar) == ["clarify"]
        clock.advance(2.0)
        await at(pilot, app, 7.0)
        assert "stage empathize › proceed" in shown(app, MetersBar)
        assert highlighted(app, MetersBar) == ["proceed"]
        await pilot.press("left")  # back to 2 s: 001 has not started yet
        await at(pilot, app, 2.0)
        assert highlighted(app, MetersBar) == ["empathize"]


@synchronously
async def test_a_dismissal_survives_a_seek_back(tmp_path):
    recorded = []
    app, clock = make_app(tmp_path, start=8.0, paused=True, record=recorded.append)
    async with app.run_test(size=SIZE) as pilot:
        await at(pilot, app, 8.0)
        await pilot.press("d")
        assert "LET THEM FINISH" not in shown(app, PromptPanel)
        await pilot.press("space")
        clock.advance(2.0)
        await at(pilot, app, 10.0)
        await pilot.press("left", "left")  # back to 0:00, before the dismissal ...
        await at(pilot, app, 0.0)
        clock.advance(9.0)  # ... and past it again
        await at(pilot, app, 9.0)
        assert "LET THEM FINISH" not in shown(app, PromptPanel)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
    assert [p.rule for p in app.result.scorecard.prompts if p.dismissed] == ["let_them_finish"]
    card = json.loads((tmp_path / "call.scorecard.json").read_text())
    assert [p["rule"] for p in card["prompts"] if p["dismissed"]] == ["let_them_finish"]
    # The session log got each event shown once (up to 0:10, the furthest the playhead went),
    # and the dismissal once.
    assert [e for e in recorded if not isinstance(e, Dismiss)] == [e for e in call_events() if e.at <= 10.0]
    assert [e for e in recorded if isinstance(e, Dismiss)] == [Dismiss(at=8.0, rule="let_them_finish")]


def test_main_screen_snapshot(tmp_path, snap_compare):
    app, _ = make_app(tmp_path, start=8.5, paused=True)

    async def settle(pilot):
        await at(pilot, app, 8.5)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)



class LiveCall:
    """A live call's stand-in: the scripted call's first 5 s, then quiet until stopped, then
    what a stopped pipeline still emits: the last words of the turn and its CallEnd."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def events(self):
        yield from (e for e in call_events() if e.at <= 5 and not isinstance(e, CallEnd))
        self.stopped.wait(10)
        yield Word(at=5.6, speaker="rep", text=" bye", start=5.1, end=5.4)
        yield CallEnd(at=5.7, reason="stopped")


@synchronously
async def test_q_on_a_live_call_keeps_its_last_words_and_tells_the_engine_of_dismissals(tmp_path):
    call, logged, told = LiveCall(), [], []
    feed = EventFeed(call.events(), live=True, on_stop=call.stopped.set)
    app = AssistApp(feed, source="mic", scorecard_dir=tmp_path, stem="call", record=logged.append,
                    tell=told.append, state_engine=rule_free_engine)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: any(isinstance(e, Prompt) for e in app.view.events), "a prompt")
        await pilot.press("d")
        assert [type(e) for e in told] == [Dismiss]
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
    assert [e for e in logged if isinstance(e, Word)][-1].text == " bye"  # said before q
    assert isinstance(logged[-1], CallEnd) and logged[-1].reason == "stopped"
    assert json.loads((tmp_path / "call.scorecard.json").read_text())["duration"] == 5.7
