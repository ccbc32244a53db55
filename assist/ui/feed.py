"""Feeding events to the overlay at the pace of the call, with the trainer's replay controls.

A producer thread drains the event source (the pipeline in ``simulated`` clock, a recorded
event log, or a test script) into an append-only buffer as fast as it comes. A playhead —
call time moving with a monotonic clock at a chosen speed — decides what has been "heard" so
far: :meth:`EventFeed.poll` hands over every buffered event with ``at`` up to the playhead.

So pause, speed and seek only move the playhead, never the pipeline: seeking back re-shows
the recorded events up to the new moment (the rule engine is pure and deterministic, so they
are exactly what a fresh run would give); seeking forward past what has been produced waits
at the production front. The playhead stops at the end of the call, and a replay can still
be watched again from an earlier moment after it. Live, the playhead simply follows the
newest event and the controls do nothing.

The rep's own events (a :class:`~assist.events.Dismiss`) join the buffer in call order
(:meth:`EventFeed.add`), so a seek back re-shows them with the rest of the call.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assist.events import Event, Prompt

SPEEDS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """What changed since the last poll."""

    events: tuple[Event, ...]
    position: float  # call time of the playhead
    reset: bool = False  # forget what was shown: ``events`` start again from the beginning
    paused: bool = False
    speed: float = 1.0
    buffering: bool = False  # the playhead waits for the pipeline
    ended: bool = False  # every event of the call has been handed over
    error: str | None = None  # the source failed (one line)


class Playhead:
    """Call time advancing with ``clock`` at ``speed``; pausable and movable.

    Thread-safe, and reading never takes a lock: the state is one tuple swapped whole, so the
    audio output callback can follow the playhead without ever blocking.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, position: float = 0.0) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # serialises writers only
        # (position at ``since``, since, speed, paused)
        self._state = (position, clock(), 1.0, False)

    def position(self) -> float:
        base, since, speed, paused = self._state
        return base if paused else base + (self._clock() - since) * speed

    @property
    def speed(self) -> float:
        return self._state[2]

    @property
    def paused(self) -> bool:
        return self._state[3]

    def _set(self, position: float | None = None, speed: float | None = None, paused: bool | None = None) -> None:
        with self._lock:
            _, _, old_speed, old_paused = self._state
            here = self.position() if position is None else position
            self._state = (
                here,
                self._clock(),
                old_speed if speed is None else speed,
                old_paused if paused is None else paused,
            )

    def set_paused(self, paused: bool) -> None:
        self._set(paused=paused)

    def set_speed(self, speed: float) -> None:
        self._set(speed=speed)

    def seek(self, position: float) -> None:
        self._set(position=max(0.0, position))


class EventFeed:
    """Events of one call, handed to the overlay at the playhead (see the module doc)."""

    def __init__(
        self,
        source: Iterable[Event],
        *,
        live: bool = False,
        clock: Callable[[], float] = time.monotonic,
        start: float = 0.0,
        paused: bool = False,
        on_stop: Callable[[], None] | None = None,
        drain_timeout: float = 3.0,
    ) -> None:
        self.live = live
        self.drain_timeout = drain_timeout  # live: how long a stopped call may take to end
        self._source = source
        self._on_stop = on_stop  # e.g. Pipeline.stop
        self._buffer: list[Event] = []
        self._produced = threading.Condition()
        self._done = False
        self._error: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = start
        self.playhead = Playhead(clock, start)
        self.playhead.set_paused(paused and not live)
        self._index = 0  # next buffered event to hand over
        self._reset = False

    # --- production -------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._produce, name="assist-feed", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            for event in self._source:
                with self._produced:
                    self._buffer.append(event)
                    self._produced.notify_all()
                if self._stopping.is_set() and not self.live:
                    break  # live, the stopped pipeline ends by itself after its last passes
        except Exception as exc:  # shown on screen, then the command exits with it
            self._error = str(exc) or type(exc).__name__
        finally:
            with self._produced:
                self._done = True
                self._produced.notify_all()

    def add(self, event: Event) -> None:
        """An event of the overlay itself (the rep's dismissal), already shown at ``event.at``.

        Kept in call order after everything up to that moment, and counted as handed over, so
        a seek back re-shows it where it happened instead of forgetting it.
        """
        with self._produced:
            where = bisect.bisect_right(self._buffer, event.at, key=lambda e: e.at)
            self._buffer.insert(where, event)
            if where <= self._index:
                self._index += 1

    def wait_produced(self, timeout: float | None = None) -> bool:
        """Block until the source is exhausted (tests, --no-ui)."""
        with self._produced:
            return self._produced.wait_for(lambda: self._done, timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._on_stop is not None:
            self._on_stop()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    # --- consumption ------------------------------------------------------------------
    def _front(self) -> float:
        """Call time up to which events exist (the start, before the first one comes)."""
        return self._buffer[-1].at if self._buffer else self._start

    def poll(self) -> FeedUpdate:
        with self._produced:
            front = self._front()
            done = self._done
            if self.live:
                position = front
            else:
                position = self.playhead.position()
                if position > front:
                    # Wait at the production front, or stop at the end of the call: seeking
                    # back from there then starts from the end, not from where time has got to.
                    self.playhead.seek(front)
                    position = front
            start = self._index
            while self._index < len(self._buffer) and self._buffer[self._index].at <= position:
                self._index += 1
            events = tuple(self._buffer[start : self._index])
            ended = done and self._index == len(self._buffer)
            reset, self._reset = self._reset, False
        return FeedUpdate(
            events=events,
            position=position,
            reset=reset,
            paused=self.playhead.paused,
            speed=self.playhead.speed,
            buffering=not done and not self.live and position >= front,
            ended=ended,
            error=self._error if ended else None,
        )

    def run(self, emit: Callable[[FeedUpdate], None], interval: float = 0.05) -> None:
        """Poll, emitting updates that change something (worker thread), until stopped.

        Live, also until the call has ended; a replay keeps going after its end, so the
        trainer can seek back, pause and watch a moment again.
        """
        last: tuple | None = None
        stopped_at: float | None = None
        while True:
            update = self.poll()
            key = (round(update.position, 1), update.paused, update.speed, update.buffering, update.ended)
            if update.events or update.reset or key != last:
                emit(update)
                last = key
            if update.ended and self.live:
                return
            if self.stopped:
                # Live, the pipeline's last passes and its CallEnd are on their way: wait up
                # to drain_timeout for them. A replay's are ahead of the playhead anyway.
                if not self.live:
                    return
                stopped_at = time.monotonic() if stopped_at is None else stopped_at
                if time.monotonic() - stopped_at > self.drain_timeout:
                    return
            time.sleep(interval)

    # --- replay controls (no-ops live) ------------------------------------------------------
    def toggle_pause(self) -> None:
        if not self.live:
            self.playhead.set_paused(not self.playhead.paused)

    def change_speed(self, steps: int) -> float:
        """Move ``steps`` along :data:`SPEEDS` (0.5×–4×); returns the new speed."""
        if not self.live:
            current = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.playhead.speed))
            index = max(0, min(len(SPEEDS) - 1, current + steps))
            self.playhead.set_speed(SPEEDS[index])
        return self.playhead.speed

    def seek(self, position: float) -> None:
        if self.live:
            return
        with self._produced:
            position = max(0.0, min(position, self._front()))
            if position < self.playhead.position():
                self._index, self._reset = 0, True  # re-show the call up to the new moment
            self.playhead.seek(position)

    def seek_by(self, seconds: float) -> None:
        self.seek(self.playhead.position() + seconds)

    def next_prompt(self) -> bool:
        """Jump to the next prompt already produced; False if there is none yet."""
        position = self.playhead.position()
        with self._produced:
            upcoming = [e.at for e in self._buffer if isinstance(e, Prompt) and e.at > position + 1e-3]
        if upcoming:
            self.seek(upcoming[0])
        return bool(upcoming)
