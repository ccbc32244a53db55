"""The overlay driven by Textual's Pilot on the scripted call (a clock moved by hand)."""

from __future__ import annotations

import asyncio
import functools
from ui_support import ManualClock, call_events

from assist.rules import Engine, RulePack
from assist.ui.app import AssistApp, ScorecardScreen
from assist.ui.feed import EventFeed
from assist.ui.widgets import MetersBar, PromptPanel, StatusLine, TranscriptPanel

SIZE = (100, 30)


def synchronously(scenario):
    """Run an async Pilot scenario as a plain test (no pytest-asyncio needed)."""

    @functools.wraps(scenario)
    def test(tmp_path):
        asyncio.run(scenario(tmp_path))

    return test


def rule_free_engine() -> Engine:
    # The meters' state with no rule pack: the screen does not change when rules/*.toml do.
    return Engine(RulePack(rules=()))


def make_app(tmp_path, start=0.0, paused=False) -> tuple[AssistApp, ManualClock]:
    clock = ManualClock()
    feed = EventFeed(call_events(), clock=clock, start=start, paused=paused)
    app = AssistApp(
        feed, source="ui_call.jsonl", scorecard_dir=tmp_path, stem="call", state_engine=rule_free_engine
    )
    return app, clock


def shown(app: AssistApp, widget) -> str:
    return str(app.query_one(widget).content)


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


@synchronously
async def test_end_of_call_shows_and_saves_the_scorecard(tmp_path):
    app, clock = make_app(tmp_path, start=41.0)
    async with app.run_test(size=SIZE) as pilot:
        clock.advance(2.0)
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), "scorecard")
        await pilot.pause()
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


def test_main_screen_snapshot(tmp_path, snap_compare):
    app, _ = make_app(tmp_path, start=8.5, paused=True)

    async def settle(pilot):
        await at(pilot, app, 8.5)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)

