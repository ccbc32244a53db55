"""``assist eval``: replay recorded calls through the whole pipeline and score the prompts.

    fixtures = find_fixtures(["audio_fixtures"])       # sidecars → Fixture (AssistError if bad)
    run = run_fixture(fixture, model, pack)             # simulated real time → fired prompts
    result = score(fixture, run.prompts)                # matched to the expected windows
    summary = summarize([result, ...])                  # precision, recall, latency
"""

from .fixtures import Fixture, Utterance, Window, find_fixtures, load_fixture
from .runner import FixtureRun, run_fixture
from .scoring import FixtureScore, Fired, Summary, score, summarize

__all__ = [
    "Fired",
    "Fixture",
    "FixtureRun",
    "FixtureScore",
    "Summary",
    "Utterance",
    "Window",
    "find_fixtures",
    "load_fixture",
    "run_fixture",
    "score",
    "summarize",
]
