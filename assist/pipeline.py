"""Drive audio source → VAD per channel → streaming transcriber per channel → events.

``Pipeline(source, model, clock=...)``; iterate :meth:`Pipeline.events` (a generator, in any
one thread); :meth:`Pipeline.stop` from any thread ends it with a :class:`CallEnd`.

One worker (the thread iterating ``events()``) serves every channel: passes are serialised,
final passes first, then the channel that has waited longest (the fast clock excepted). Clocks:

- ``realtime``: audio is consumed as the source delivers it (microphone, ``--realtime``
  file). ``at`` = call audio captured when the event is emitted. A pass always decodes up to
  the newest audio, so latency stays bounded; if passes cannot keep up, partial passes are
  spaced out (a ``behind`` notice) until they can (``caught_up``).
- ``simulated``: the source is read unpaced, but a virtual clock releases audio as real time
  would, and each pass (and the VAD work) advances it by what it cost (``sim_time``: CPU
  or wall time measured, or a fixed cost model, :mod:`assist.transcription.cost`). Every
  event's ``at`` is what it would have been in real time on this machine (on the model:
  on any), while the run takes only the compute time. Eval and the benchmarks use this.
- ``fast``: no pacing and no partial passes: a final pass once about 26 s of speech wait
  (``FAST_CHANNEL_OPTIONS``), or at the end. ``at`` is the audio read so far; latencies mean nothing. With two
  speakers, each one's passes run on a thread of its own (:meth:`Pipeline._fast`).

CPU: a token bucket. Call time earns ``cpu_budget`` seconds of compute per second (default
0.5 of one core), up to ``budget_burst`` seconds saved (default 6: both sides talking at
once want about a core for a while; a 2 s burst throttled them, adding 0.2 s to the phone
call's p95 latency at 17 % average CPU); every pass and the VAD spend from
it, and interim passes wait while it is empty; final passes always run. The bucket starts
empty, so a call of any length averages within the budget: one that started full let the
4-minute phone call take 51-52 % of a core and the 99 s synthetic call 54 %. Waiting for the
bucket spaces passes evenly (a 0.3 s pass at 0.5 core: one every 0.6 s), where a window
average let passes run back to back and then held them for seconds. On a fast machine the
budget never bites; on a slow or busy one, words commit a little later instead of the
transcriber eating the machine the rep's call and overlay run on.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from assist.audio.base import SAMPLE_RATE, AudioSource, Chunk
from assist.events import (
    CallEnd,
    Event,
    Notice,
    Partial,
    SpeechEnd,
    SpeechStart,
    Tick,
    Word,
    WordGuess,
)
from assist.lanes import Lanes
from assist.transcription.base import Decoder
from assist.transcription.channel import ChannelTranscriber, PassResult
from assist.transcription.cost import FixedCost, parse_sim_time
from assist.vad import StreamingVAD, VadEvent

Clock = Literal["realtime", "simulated", "fast"]
CLOCKS: tuple[str, ...] = ("realtime", "simulated", "fast")

TICK = 0.25
SIM_STEP = 0.032  # the virtual clock's idle step: one VAD frame
LANE_AHEAD = 60.0  # fast clock: seconds the source is read ahead of the slowest lane
# The fast clock decodes in batches of about 26 s of speech (the encoder takes 30 s, and a
# batch's window also holds the speech it is heard after), so the overflow pass, which cuts
# a long monologue, must wait past that. On the phone call, against batches of 20 s and an
# overflow at 24 s: 11 passes instead of 14, 20.7-21.3x real time instead of 19.6-20.4x, WER
# 0.122 instead of 0.142 (offline 0.121); the synthetic call 30.8-32.6x instead of 23.5-28.5x.
FAST_CHANNEL_OPTIONS = {"partial_passes": False, "batch_window": 26.0, "overflow_window": 28.0}


@dataclass
class PipelineStats:
    passes: int = 0
    pass_seconds: list[float] = field(default_factory=list)  # wall time of each pass
    windows: list[float] = field(default_factory=list)  # audio seconds decoded per pass
    vad_seconds: float = 0.0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    behind: int = 0

    def as_dict(self) -> dict[str, Any]:
        p = np.array(self.pass_seconds or [0.0])
        return {
            "passes": self.passes,
            "pass_mean": float(p.mean()),
            "pass_p95": float(np.percentile(p, 95)),
            "window_mean": float(np.mean(self.windows or [0.0])),
            "vad_seconds": self.vad_seconds,
            "audio_seconds": self.audio_seconds,
            "wall_seconds": self.wall_seconds,
            "behind": self.behind,
        }


def _make_decoder(model: Any) -> Decoder:
    if hasattr(model, "decode"):
        return model
    from assist.transcription.decoder import WindowDecoder

    return WindowDecoder(model)


class Pipeline:
    def __init__(
        self,
        source: AudioSource,
        model: Any = None,
        *,
        clock: Clock = "realtime",
        decoder: Decoder | None = None,
        vad_options: dict[str, Any] | None = None,
        channel_options: dict[str, Any] | None = None,
        behind_after: float = 0.9,
        sim_time: str | Callable[[], float] = "cpu",
        cpu_budget: float | None = 0.5,
        budget_burst: float = 6.0,
    ) -> None:
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}")
        if decoder is None:
            if model is None:
                from assist.model import load_model

                model = load_model()
            decoder = _make_decoder(model)
        # simulated: what a step costs. "cpu" (process CPU time, the default) ignores other
        # programs competing for the cores and equals the idle wall time when the model
        # runs on one thread (the default), so runs are reproducible on a shared machine;
        # "wall" charges elapsed time; a clock function charges what it says.
        # "model[:SCALE]" charges each pass a fixed cost model (assist.transcription.cost)
        # instead, the same on every machine.
        if callable(sim_time):
            self._cost = sim_time
        else:
            kind, scale = parse_sim_time(sim_time)
            if kind == "model":
                decoder = FixedCost(decoder, scale)
                self._cost = decoder.clock
            else:
                self._cost = time.perf_counter if kind == "wall" else time.process_time
        self.source = source
        self.clock = clock
        self.decoder = decoder
        self.speakers = tuple(source.speakers)
        options = {**(FAST_CHANNEL_OPTIONS if clock == "fast" else {}), **(channel_options or {})}
        self.channels = [ChannelTranscriber(s, decoder, **options) for s in self.speakers]
        self.vads = [StreamingVAD(**(vad_options or {})) for _ in self.speakers]
        self.behind_after = behind_after
        # A source that starts partway (FileSource(start=...)) keeps the file's times.
        offset = int(round(float(getattr(source, "time_offset", 0.0) or 0.0) * SAMPLE_RATE))
        start = offset / SAMPLE_RATE
        # The CPU token bucket (see the module docstring). None: no limit.
        self.cpu_budget = cpu_budget
        self.budget_burst = budget_burst
        self._credit = 0.0  # seconds of compute the bucket holds: it fills as the call goes
        self._credited_at = start  # call time the bucket was last filled to
        self._now = start  # call time, for the budget
        self.stats = PipelineStats()
        self._stop = threading.Event()
        self._stats_lock = threading.Lock()
        self._ingested = 0  # samples per channel run through VAD and buffers
        self._next_tick = TICK
        self._last_partial: dict[str, tuple[WordGuess, ...]] = {}
        self._staged: list[np.ndarray] = []  # simulated: read but not yet released
        self._staged_samples = 0
        self._source_done = False
        self._behind = False
        self._base_interval = self.channels[0].interval if self.channels else 0.25
        self._recent: list[tuple[float, float]] = []  # (at, pass seconds) for the load test
        if offset:
            self._ingested = offset
            self._next_tick = (offset // (SAMPLE_RATE // 4) + 1) * TICK
            for vad, channel in zip(self.vads, self.channels):
                vad.samples = vad._last_end = offset
                vad.voiced_until = start
                channel.start_at(offset)
        self._vclock = start

    # -- control ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Thread-safe: the generator ends (with CallEnd) after the current step."""
        self._stop.set()

    @property
    def captured(self) -> float:
        return self._ingested / SAMPLE_RATE

    # -- ingest -----------------------------------------------------------------------------
    def _notices(self, chunk: Chunk, at: float) -> Iterator[Event]:
        for n in chunk.notices:
            yield Notice(at=at, kind=n.kind, message=n.message, speaker=n.speaker)

    def _ingest(self, samples: np.ndarray, at: float | None = None) -> Iterator[Event]:
        """Run samples (n, channels) through VAD and into the buffers; VAD events out."""
        if samples.shape[0] == 0:
            return
        t0 = self._cost()
        out: list[Event] = []
        self._ingested += samples.shape[0]
        stamp = self.captured if at is None else at
        self._now = max(self._now, stamp)
        for i in range(len(self.channels)):
            out.extend(self._ingest_channel(i, samples[:, i], stamp))
        spent = self._cost() - t0
        self.stats.vad_seconds += spent
        self._credit -= spent
        yield from self._ticks(stamp)
        yield from out

    def _ingest_channel(self, i: int, column: np.ndarray, stamp: float) -> list[Event]:
        column = np.ascontiguousarray(column)
        vad = self.vads[i]
        return self._to_channel(i, column, vad.feed(column), vad.voiced_until, stamp)

    def _to_channel(self, i: int, column: np.ndarray, heard: list[VadEvent], voiced_until: float,
                    stamp: float) -> list[Event]:
        """The channel takes in audio with what the VAD heard in it."""
        channel = self.channels[i]
        channel.feed(column)
        out = [self._vad_event(channel, ev.kind, ev.time, ev.start, stamp) for ev in heard]
        channel.voiced_until = voiced_until
        return out

    def _vad_event(self, channel: ChannelTranscriber, kind: str, t: float, start: float, at: float) -> Event:
        if kind == "start":
            channel.speech_start(t)
            return SpeechStart(at=at, speaker=channel.speaker, start=round(t, 3))
        channel.speech_end(t)
        return SpeechEnd(at=at, speaker=channel.speaker, start=round(start, 3), end=round(t, 3))

    def _flush_vad(self, at: float) -> Iterator[Event]:
        for i in range(len(self.channels)):
            yield from self._flush_channel(i, at)

    def _flush_channel(self, i: int, at: float) -> list[Event]:
        vad, channel = self.vads[i], self.channels[i]
        out = [self._vad_event(channel, ev.kind, ev.time, ev.start, at) for ev in vad.flush()]
        channel.finish()
        return out

    def _ticks(self, at: float) -> Iterator[Event]:
        while self._next_tick <= at + 1e-9:
            yield Tick(at=round(self._next_tick, 3))
            self._next_tick += TICK

    # -- passes -----------------------------------------------------------------------------
    def _over_budget(self) -> bool:
        if self.cpu_budget is None:
            return False
        earned = (self._now - self._credited_at) * self.cpu_budget
        self._credit = min(self.budget_burst, self._credit + earned)
        self._credited_at = self._now
        return self._credit <= 0.0

    def _pick(self) -> ChannelTranscriber | None:
        best, key = None, None
        for channel in self.channels:
            due = channel.due()
            if due is not None and (key is None or due < key):
                best, key = channel, due
        if key is not None and key[0] == 2 and self._over_budget():
            return None  # interim passes wait for the CPU budget; finals never do
        return best

    def _run_pass(self, channel: ChannelTranscriber) -> tuple[PassResult | None, float]:
        t0 = self._cost()
        result = channel.run_pass()
        elapsed = self._cost() - t0
        if result is not None and result.window:  # (a final pass's tail let go decodes nothing)
            with self._stats_lock:  # the fast clock's lanes run passes at once
                self.stats.passes += 1
                self.stats.pass_seconds.append(elapsed)
                self.stats.windows.append(result.window)
                self._credit -= elapsed
        return result, elapsed

    def _pass_events(self, channel: ChannelTranscriber, result: PassResult, at: float) -> Iterator[Event]:
        speaker = channel.speaker
        for w in result.committed:
            yield Word(at=at, speaker=speaker, text=w.text, start=w.start, end=w.end,
                       probability=round(float(w.probability), 3))
        guess = tuple(WordGuess(w.text, round(w.start, 3), round(min(w.end, at), 3)) for w in result.partial)
        # After a final pass an empty Partial always follows: the turn's text is complete.
        if guess != self._last_partial.get(speaker, ()) or result.kind == "final":
            self._last_partial[speaker] = guess
            yield Partial(at=at, speaker=speaker, words=guess)

    def _load(self, at: float, elapsed: float) -> Iterator[Event]:
        """realtime/simulated: space partial passes out while passes are too slow.

        A pass always decodes up to the newest audio, so nothing queues up; but when passes
        take longer than ``behind_after`` seconds (averaged), interim results go stale and
        the other channel waits: interim passes are then spaced 4× wider (``behind``) until
        passes are quick again (``caught_up``).
        """
        self._recent.append((at, elapsed))
        self._recent = self._recent[-4:]
        mean = sum(e for _, e in self._recent) / len(self._recent)
        if not self._behind and mean > self.behind_after:
            self._behind = True
            self.stats.behind += 1
            for c in self.channels:
                c.interval = self._base_interval * 4
            yield Notice(at=at, kind="behind",
                         message=f"transcription is falling behind ({mean:.1f} s a pass): fewer interim passes")
        elif self._behind and mean < self.behind_after / 2:
            self._behind = False
            for c in self.channels:
                c.interval = self._base_interval
            yield Notice(at=at, kind="caught_up", message="transcription caught up")

    # -- the loops --------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        """The event stream; ``at`` never decreases; the last event is a CallEnd."""
        last = 0.0
        for event in self._events():
            if event.at < last:
                event = _restamp(event, last)
            last = event.at
            yield event

    def _events(self) -> Iterator[Event]:
        started = time.perf_counter()
        reason = "end"
        try:
            if self.clock == "simulated":
                reason = yield from self._simulated()
            elif self.clock == "fast" and len(self.channels) > 1:
                reason = yield from self._fast()
            else:
                reason = yield from self._live()
        finally:
            self.stats.audio_seconds = self.captured
            self.stats.wall_seconds = time.perf_counter() - started
            self.source.close()
        yield CallEnd(at=round(self.captured, 3) if self.clock != "simulated" else round(self._vclock, 3),
                      reason=reason)

    def _drain_passes(self, at_fn) -> Iterator[Event]:
        while (channel := self._pick()) is not None:
            result, elapsed = self._run_pass(channel)
            if result is not None:
                yield from self._pass_events(channel, result, at_fn(elapsed))

    def _live(self) -> Iterator[Event]:
        """realtime (and fast, for one speaker): consume audio as the source delivers it."""
        fast = self.clock == "fast"
        while not self._stop.is_set():
            channel = None if fast else self._pick()
            chunk = self.source.read(timeout=0.0 if channel is not None else 0.05)
            if chunk is None:
                break
            yield from self._notices(chunk, self.captured)
            yield from self._ingest(chunk.samples)
            if fast:
                yield from self._drain_passes(lambda _e: round(self.captured, 3))
                continue
            channel = self._pick()
            if channel is None:
                continue
            result, elapsed = self._run_pass(channel)
            # Take in what arrived during the pass, so `at` is the audio captured by now.
            while self.source.paced:
                more = self.source.read(timeout=0.0)
                if more is None:
                    self._source_done = True
                    break
                if not more.frames and not more.notices:
                    break
                yield from self._notices(more, self.captured)
                yield from self._ingest(more.samples)
            if result is not None:
                at = round(self.captured, 3)
                yield from self._pass_events(channel, result, at)
                yield from self._load(at, elapsed)
            if self._source_done:
                break
        if self._stop.is_set():
            return "stopped"
        yield from self._flush_vad(self.captured)
        yield from self._drain_passes(lambda _e: round(self.captured, 3))
        return "end"

    # fast, two speakers or more ------------------------------------------------------------
    def _fast(self) -> Iterator[Event]:
        """Each speaker's passes on a thread (a lane) of its own, merged by ``at``.

        With no partial passes and no budget the sides of a call share nothing, and the model
        runs two decodes at once (``num_workers=2``): on two cores the call takes about as
        long as its busier side. This thread reads the source and runs the VAD, which keeps
        it off the busier side's critical path (the phone call: 17-18x real time against
        15-17x with the VAD in the lanes, 11-13x with no lanes). ``at`` is the audio a lane
        has been through. The source is read at most ``LANE_AHEAD`` seconds ahead of the
        slowest lane, so a long file is not read into memory; the lanes need that slack to
        decode at the same time, since each decodes in batches of speech (``batch_window``).
        """
        lanes = Lanes(len(self.channels) + 1)  # lane 0: the source's ticks and notices
        halt = threading.Event()
        # Per lane: (audio, what the VAD heard in it, voiced_until), then None at the end.
        inboxes: list[queue.SimpleQueue[tuple[np.ndarray, list[VadEvent], float] | None]] = [
            queue.SimpleQueue() for _ in self.channels]
        threads = [
            threading.Thread(target=self._lane, args=(i, inboxes[i], lanes, halt, self._ingested),
                             name=f"assist-{channel.speaker}", daemon=True)
            for i, channel in enumerate(self.channels)
        ]
        for thread in threads:
            thread.start()
        try:
            while not self._stop.is_set():
                chunk = self.source.read(timeout=0.05)
                if chunk is None:
                    break
                events = list(self._notices(chunk, self.captured))
                if chunk.frames:
                    self._ingested += chunk.frames
                    t0 = time.thread_time()  # the lanes' CPU is not the VAD's
                    for i, inbox in enumerate(inboxes):
                        column = np.ascontiguousarray(chunk.samples[:, i])
                        vad = self.vads[i]
                        inbox.put((column, vad.feed(column), vad.voiced_until))
                    self.stats.vad_seconds += time.thread_time() - t0
                    events.extend(self._ticks(self.captured))
                lanes.post(0, events, self.captured)
                yield from lanes.take()
                while self.captured - lanes.horizon > LANE_AHEAD and not self._stop.is_set():
                    yield from lanes.take(timeout=0.1)
            if self._stop.is_set():
                yield from lanes.take()
                return "stopped"
            lanes.close(0)
            for inbox in inboxes:
                inbox.put(None)
            while not lanes.done and not self._stop.is_set():
                yield from lanes.take(timeout=0.1)
            return "stopped" if self._stop.is_set() else "end"
        finally:
            halt.set()
            for thread in threads:
                thread.join()

    def _lane(self, i: int, inbox: queue.SimpleQueue, lanes: Lanes, halt: threading.Event, ingested: int) -> None:
        channel, lane = self.channels[i], i + 1
        try:
            while not halt.is_set():
                try:
                    item = inbox.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is None:
                    at = round(ingested / SAMPLE_RATE, 3)
                    lanes.post(lane, [*self._flush_channel(i, at), *self._channel_passes(channel, at)], math.inf)
                    return
                column, heard, voiced_until = item
                ingested += len(column)
                at = round(ingested / SAMPLE_RATE, 3)
                lanes.post(lane, [*self._to_channel(i, column, heard, voiced_until, at),
                                  *self._channel_passes(channel, at)], at)
        except BaseException as exc:  # the reader re-raises it; a thread cannot
            lanes.fail(exc)

    def _channel_passes(self, channel: ChannelTranscriber, at: float) -> list[Event]:
        out: list[Event] = []
        while channel.due() is not None:
            result, _ = self._run_pass(channel)
            if result is not None:
                out.extend(self._pass_events(channel, result, at))
        return out

    # simulated ------------------------------------------------------------------------------
    _vclock = 0.0

    def _stage_until(self, samples: int) -> None:
        while self._staged_samples < samples and not self._source_done:
            chunk = self.source.read()
            if chunk is None:
                self._source_done = True
                break
            if chunk.notices:
                self._pending_notices.extend(chunk.notices)
            if chunk.frames:
                self._staged.append(chunk.samples)
                self._staged_samples += chunk.frames

    def _release(self, samples: int) -> np.ndarray:
        take = min(samples, self._staged_samples)
        if take <= 0:
            return np.zeros((0, len(self.speakers)), dtype=np.float32)
        joined = np.concatenate(self._staged) if len(self._staged) > 1 else self._staged[0]
        out, rest = joined[:take], joined[take:]
        self._staged = [rest] if len(rest) else []
        self._staged_samples = len(rest)
        return out

    def _advance(self, to: float) -> Iterator[Event]:
        """Release audio up to virtual time ``to`` and run it through VAD."""
        self._vclock = to
        self._now = max(self._now, to)
        target = int(to * SAMPLE_RATE) - self._ingested
        if target > 0:
            self._stage_until(target)
            t0 = self._cost()
            block = self._release(target)
            for n in self._pending_notices:
                yield Notice(at=round(self._vclock, 3), kind=n.kind, message=n.message, speaker=n.speaker)
            self._pending_notices.clear()
            events = list(self._ingest(block, at=None))
            # VAD work takes time too.
            self._vclock = max(self._vclock, self.captured) + (self._cost() - t0)
            for ev in events:
                yield ev if isinstance(ev, Tick) else _restamp(ev, round(self._vclock, 3))

    def _simulated(self) -> Iterator[Event]:
        self._pending_notices: list[Any] = []
        while not self._stop.is_set():
            yield from self._advance(self._vclock)
            if self._source_done and self._staged_samples == 0:
                break
            channel = self._pick()
            if channel is None:
                yield from self._advance(self._vclock + SIM_STEP)
                if self._source_done and self._staged_samples == 0:
                    break
                continue
            result, elapsed = self._run_pass(channel)
            self._vclock += elapsed
            if result is not None:
                # Audio that arrived during the pass is captured by the time it reports.
                at = round(self._vclock, 3)
                yield from self._advance(self._vclock)
                at = round(max(at, min(self._vclock, self.captured + 1e-9)), 3)
                yield from self._pass_events(channel, result, at)
                yield from self._load(at, elapsed)
        if self._stop.is_set():
            return "stopped"
        yield from self._flush_vad(round(self._vclock, 3))

        def at_fn(elapsed: float) -> float:
            self._vclock += elapsed
            return round(self._vclock, 3)

        yield from self._drain_passes(at_fn)
        return "end"


def _restamp(event: Event, at: float) -> Event:
    from dataclasses import replace

    return replace(event, at=at)


__all__ = ["CLOCKS", "Clock", "Pipeline", "PipelineStats"]
