"""The pipeline's event stream and clocks, with a fake decoder (no model)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assist.audio.base import ArraySource, Chunk, NoticeInfo
from assist.events import CallEnd, Notice, Partial, SpeechEnd, SpeechStart, Tick, Word
from assist.pipeline import Pipeline
from assist.transcription.base import DecodedWord, DecodeResult
from tests.audio_helpers import JFK, STEREO, read_file

SR = 16_000
# jfk.flac's four turns (VAD), with words spread evenly over each
JFK_TURNS = [((0.32, 2.24), "and so my fellow americans"), ((3.33, 4.35), "ask not"),
             ((5.44, 7.62), "what your country can do for you"),
             ((8.22, 10.5), "ask what you can do for your country")]


def script_from(turns):
    words = []
    for (a, b), text in turns:
        parts = text.split()
        step = (b - a) / len(parts)
        words += [DecodedWord(" " + w, round(a + i * step, 3), round(a + (i + 1) * step - 0.02, 3))
                  for i, w in enumerate(parts)]
    return words


class LocatingDecoder:
    """Finds its window in the known signal, returns the script words inside it.

    A window is the channel's glued speech: runs of the signal end to end, each located on
    its own. Audio that is not this signal (another channel's) is heard as nothing.
    """

    def __init__(self, signal: np.ndarray, script, cost: float = 0.0):
        self.signal, self.script, self.cost = signal, script, cost
        self.index = {signal[i : i + 8].tobytes(): i for i in range(len(signal) - 8)}
        self.windows = []  # call-time spans of the runs in each window

    def decode(self, audio, max_tokens=None):
        t_end = time.process_time() + self.cost
        while time.process_time() < t_end:
            pass
        audio = np.asarray(audio, np.float32)
        words, spans, a = [], [], 0
        while a < len(audio) - 8:
            located = self._locate(audio[a:])
            if located is None:
                return DecodeResult()  # another channel's audio
            i, n = located
            t0, t1 = i / SR, (i + n) / SR
            spans.append((t0, t1))
            words += [w.shifted(a / SR - t0) for w in self.script if w.start >= t0 - 0.05 and w.end <= t1]
            a += n
        self.windows.append(spans)
        return DecodeResult(tuple(words))

    def _locate(self, audio):
        """(signal index, length) of the run of the signal that ``audio`` starts with."""
        loud = np.flatnonzero(np.abs(audio[:-8]) > 1e-3)
        if not len(loud):
            return None
        j = int(loud[0])
        i = self.index.get(audio[j : j + 8].tobytes())
        if i is None or i - j < 0:
            return None
        i -= j
        n = min(len(audio), len(self.signal) - i)
        differ = np.flatnonzero(self.signal[i : i + n] != audio[:n])
        return i, int(differ[0]) if len(differ) else n


@pytest.fixture(scope="module")
def jfk():
    _, audio = read_file(JFK)
    return audio


def run(source, decoder, **kw):
    return list(Pipeline(source, decoder=decoder, **kw).events())


def test_simulated_clock_event_stream(jfk):
    script = script_from(JFK_TURNS)
    dec = LocatingDecoder(jfk[:, 0], script, cost=0.03)
    events = run(ArraySource(jfk), dec, clock="simulated")
    assert isinstance(events[-1], CallEnd) and events[-1].reason == "end"
    ats = [e.at for e in events]
    assert ats == sorted(ats)  # at never decreases
    words = [e for e in events if isinstance(e, Word)]
    assert " ".join(w.text.strip() for w in words) == " ".join(t for _, t in JFK_TURNS)
    assert {w.speaker for w in words} == {"unknown"}
    assert all(w.at >= w.end for w in words)  # never before the audio was heard
    lat = sorted(w.at - w.end for w in words)
    assert lat[len(lat) // 2] < 0.8 and lat[-1] < 2.0
    starts = [e for e in events if isinstance(e, SpeechStart)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(starts) == len(ends) == 4
    for (a, b), e in zip([t for t, _ in JFK_TURNS], ends):
        assert abs(e.start - a) < 0.3 and abs(e.end - b) < 0.3
    ticks = [e.at for e in events if isinstance(e, Tick)]
    assert ticks[:4] == [0.25, 0.5, 0.75, 1.0] and len(ticks) == 44
    # partials came before the words they turned into; the last one of a turn is empty
    partials = [e for e in events if isinstance(e, Partial)]
    assert partials and not partials[-1].words


def test_committed_words_are_in_order_and_never_repeat(jfk):
    script = script_from(JFK_TURNS)
    events = run(ArraySource(jfk, block=777), LocatingDecoder(jfk[:, 0], script), clock="simulated")
    words = [e for e in events if isinstance(e, Word)]
    keys = [(w.start, w.text) for w in words]
    assert len(set(keys)) == len(keys)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_fast_clock_runs_final_passes_only(jfk):
    script = script_from(JFK_TURNS)
    dec = LocatingDecoder(jfk[:, 0], script)
    events = run(ArraySource(jfk), dec, clock="fast")
    words = [e for e in events if isinstance(e, Word)]
    assert " ".join(w.text.strip() for w in words) == " ".join(t for _, t in JFK_TURNS)
    assert len(dec.windows) == 1  # the turns glued into one window: one pass
    spans = dec.windows[0]
    assert len(spans) >= 2 and sum(b - a for a, b in spans) < 10.5  # silences between turns left out
    assert not [e for e in events if isinstance(e, Partial) and e.words]


class EveryHalfSecond:
    """Hears a word every 0.5 s of whatever window it gets; records the windows' lengths."""

    def __init__(self):
        self.seconds: list[float] = []

    def decode(self, audio, max_tokens=None):
        seconds = len(audio) / SR
        self.seconds.append(seconds)
        starts = np.arange(0.0, seconds - 0.5, 0.5)
        return DecodeResult(tuple(DecodedWord(" w", round(a, 3), round(a + 0.4, 3), 0.95) for a in starts))


def test_fast_clock_batches_long_speech_within_the_encoders_30_s(jfk):
    from assist.transcription.decoder import MAX_SECONDS

    dec = EveryHalfSecond()
    run(ArraySource(np.tile(jfk, (8, 1))), dec, clock="fast")  # 88 s, about 70 s of speech
    assert max(dec.seconds) <= MAX_SECONDS  # the decoder refuses longer windows
    assert max(dec.seconds) > 24  # a batch is most of what the encoder takes


STEREO_SCRIPT = {"rep": script_from([((0.2, 4.9), "he began a confused complaint")]),
                 "customer": script_from([((0.4, 2.6), "the horizon seems extremely distant")])}


class PerChannel:
    """Hears each channel of a stereo signal as its own script."""

    def __init__(self, audio):
        self.decs = [LocatingDecoder(audio[:, i], STEREO_SCRIPT[s]) for i, s in enumerate(("rep", "customer"))]

    def decode(self, window, max_tokens=None):
        for d in self.decs:
            r = d.decode(window)
            if r.words:
                return r
        return DecodeResult()


def by_speaker(events):
    return {s: " ".join(e.text.strip() for e in events if isinstance(e, Word) and e.speaker == s)
            for s in ("rep", "customer")}


@pytest.fixture(scope="module")
def stereo():
    return read_file(STEREO)[1]


def test_stereo_words_go_to_their_speaker(stereo):
    events = run(ArraySource(stereo), PerChannel(stereo), clock="simulated")
    assert by_speaker(events) == {"rep": "he began a confused complaint",
                                  "customer": "the horizon seems extremely distant"}


class Overlapping(PerChannel):
    """Slow decodes that count how many run at once; ``jitter`` varies how threads interleave."""

    def __init__(self, audio, jitter=0.0, fail_on=None):
        super().__init__(audio)
        self.lock, self.running, self.most = threading.Lock(), 0, 0
        self.rng, self.jitter, self.fail_on = np.random.default_rng(), jitter, fail_on

    def decode(self, window, max_tokens=None):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.2 + self.jitter * self.rng.random())
            result = super().decode(window)
            if self.fail_on and any(self.fail_on in w.text for w in result.words):
                raise RuntimeError(f"cannot decode {self.fail_on!r}")
            return result
        finally:
            with self.lock:
                self.running -= 1


def lane_threads():
    return [t for t in threading.enumerate() if t.name.startswith("assist-")]


def test_fast_clock_decodes_both_speakers_at_once_in_a_fixed_order(stereo):
    runs = []
    for _ in range(3):
        dec = Overlapping(stereo, jitter=0.1)
        runs.append(run(ArraySource(stereo, block=1234), dec, clock="fast"))
        assert dec.most == 2  # one speaker's pass did not wait for the other's
    events = runs[0]
    assert by_speaker(events) == {"rep": "he began a confused complaint",
                                  "customer": "the horizon seems extremely distant"}
    assert [e.at for e in events] == sorted(e.at for e in events)
    ticks = [e.at for e in events if isinstance(e, Tick)]
    assert ticks == [0.25 * (i + 1) for i in range(len(ticks))] and ticks[-1] >= len(stereo) / SR - 0.25
    assert isinstance(events[-1], CallEnd) and events[-1].reason == "end"
    # However the threads were scheduled, the stream comes out the same.
    assert runs[1] == events and runs[2] == events
    assert not lane_threads()


def test_fast_clock_lane_error_reaches_the_reader(stereo):
    with pytest.raises(RuntimeError, match="cannot decode 'horizon'"):
        run(ArraySource(stereo), Overlapping(stereo, fail_on="horizon"), clock="fast")
    assert not lane_threads()


def test_fast_clock_stops_when_told(stereo):
    pipeline = Pipeline(ArraySource(stereo, block=800), decoder=Overlapping(stereo), clock="fast")
    events = []
    for event in pipeline.events():
        events.append(event)
        if isinstance(event, SpeechStart):
            pipeline.stop()
    assert isinstance(events[-1], CallEnd) and events[-1].reason == "stopped"
    assert not [e for e in events if isinstance(e, Word)]  # stopped before any final pass
    assert not lane_threads()


def test_stop_from_another_thread_ends_with_call_end(jfk):
    class Endless(ArraySource):
        paced = True

        def read(self, timeout=None):
            time.sleep(0.01)
            return Chunk(np.zeros((160, 1), np.float32))

    pipe = Pipeline(Endless(jfk), decoder=LocatingDecoder(jfk[:, 0], []), clock="realtime")
    out = []
    t = threading.Thread(target=lambda: out.extend(pipe.events()))
    t.start()
    time.sleep(0.3)
    pipe.stop()
    t.join(3)
    assert not t.is_alive()
    assert isinstance(out[-1], CallEnd) and out[-1].reason == "stopped"


def test_source_notices_become_events(jfk):
    class Noisy(ArraySource):
        def read(self, timeout=None):
            chunk = super().read(timeout)
            if chunk is not None and self._pos == self._block:
                return Chunk(chunk.samples, (NoticeInfo("overflow", "lost 20 ms", "unknown"),))
            return chunk

    for clock in ("simulated", "fast"):
        events = run(Noisy(jfk), LocatingDecoder(jfk[:, 0], []), clock=clock)
        notices = [e for e in events if isinstance(e, Notice)]
        assert [(n.kind, n.speaker) for n in notices] == [("overflow", "unknown")]


def test_realtime_clock_with_a_paced_file_keeps_up(tmp_path):
    from assist.audio.file import FileSource

    _, audio = read_file(STEREO)
    src = FileSource(STEREO, paced=True, speed=4.0)
    dec = LocatingDecoder(audio[:, 0], script_from([((0.2, 4.9), "he began a confused complaint")]))
    t0 = time.monotonic()
    events = run(src, dec, clock="realtime")
    assert 1.0 < time.monotonic() - t0 < 4.0  # 5 s of audio at 4x
    words = [e for e in events if isinstance(e, Word)]
    assert " ".join(w.text.strip() for w in words) == "he began a confused complaint"
    assert all(w.at >= w.end for w in words)
    assert isinstance(events[-1], CallEnd)


def test_start_offset_keeps_file_times():
    from assist.audio.file import FileSource

    _, audio = read_file(JFK)
    dec = LocatingDecoder(audio[:, 0], script_from(JFK_TURNS[2:]))
    events = run(FileSource(JFK, start=5.0), dec, clock="simulated")
    words = [e for e in events if isinstance(e, Word)]
    assert words[0].text.strip() == "what" and words[0].start > 5.0
    ticks = [e for e in events if isinstance(e, Tick)]
    assert ticks[0].at == 5.25


def test_cpu_governor_holds_interim_passes_to_the_budget(jfk):
    """A slow decoder (0.2 s CPU a pass): with a budget of 0.3 core, interim passes thin out
    but every word still arrives (final passes never wait)."""
    script = script_from(JFK_TURNS)
    runs = {}
    for budget in (None, 0.3):
        dec = LocatingDecoder(jfk[:, 0], script, cost=0.2)
        pipe = Pipeline(ArraySource(jfk), decoder=dec, clock="simulated", cpu_budget=budget, budget_burst=2.0)
        events = list(pipe.events())
        words = [e for e in events if isinstance(e, Word)]
        assert " ".join(w.text.strip() for w in words) == " ".join(t for _, t in JFK_TURNS)
        runs[budget] = sum(pipe.stats.pass_seconds) / pipe.stats.audio_seconds
    assert runs[None] > 0.45
    # The bucket starts empty: over the call, only the final passes (one a turn, they never
    # wait) may take more than the budget. Started full, it took 0.47.
    assert runs[0.3] <= 0.3 + len(JFK_TURNS) * 0.2 / 11 + 1e-6


def test_a_replay_from_partway_starts_with_an_empty_cpu_bucket(jfk):
    """The budget is earned from where the replay starts, not from the file's start: a replay
    from 5 s must not begin with 5 s of credit saved up."""
    from assist.audio.file import FileSource

    dec = LocatingDecoder(jfk[:, 0], script_from(JFK_TURNS[2:]), cost=0.2)
    pipe = Pipeline(FileSource(JFK, start=5.0), decoder=dec, clock="simulated", cpu_budget=0.3,
                    budget_burst=2.0)
    words = [e for e in pipe.events() if isinstance(e, Word)]
    assert words and words[0].start > 5.0
    heard = pipe.stats.audio_seconds - 5.0
    # Within the budget but for the two turns' final passes, which never wait.
    assert sum(pipe.stats.pass_seconds) / heard <= 0.3 + 2 * 0.2 / heard + 1e-6


def test_a_clock_function_charges_what_it_says_and_runs_repeat(jfk):
    """Benchmarks compare policy variants on a fixed cost model: every pass is charged what
    the clock says (0.3 s here), and two runs give the same event stream."""
    spent = [0.0]

    class Charged(LocatingDecoder):
        def decode(self, audio, max_tokens=None):
            spent[0] += 0.3
            return super().decode(audio, max_tokens)

    streams = []
    for _ in range(2):
        spent[0] = 0.0
        events = run(ArraySource(jfk), Charged(jfk[:, 0], script_from(JFK_TURNS)), clock="simulated",
                     sim_time=lambda: spent[0], cpu_budget=None)
        streams.append([(type(e).__name__, round(e.at, 6)) for e in events])
        words = [e for e in events if isinstance(e, Word)]
        assert words and all(w.at - w.end >= 0.3 - 1e-6 for w in words)
    assert streams[0] == streams[1]
    with pytest.raises(ValueError, match="sim_time"):
        Pipeline(ArraySource(jfk), decoder=Charged(jfk[:, 0], []), clock="simulated", sim_time="gpu")


def test_the_fixed_cost_model_gives_one_schedule_whatever_the_decoder_spends(jfk):
    """``sim_time="model[:SCALE]"`` charges each pass by window and tokens, not by what it
    took: a decoder 20 ms slower per pass gives the very same events; SCALE 3 commits later."""
    script = script_from(JFK_TURNS)

    def stream(cost: float, sim_time: str):
        events = run(ArraySource(jfk), LocatingDecoder(jfk[:, 0], script, cost=cost), clock="simulated",
                     sim_time=sim_time)
        return [(type(e).__name__, round(e.at, 6)) for e in events]

    fast, slow = stream(0.0, "model"), stream(0.02, "model:1")
    assert fast == slow
    lags = {}
    for scale in ("model", "model:3"):
        words = [e for e in run(ArraySource(jfk), LocatingDecoder(jfk[:, 0], script), clock="simulated",
                                sim_time=scale) if isinstance(e, Word)]
        lags[scale] = np.mean([w.at - w.end for w in words])
    assert lags["model:3"] > lags["model"] + 0.05
