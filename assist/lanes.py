"""Events from several threads, handed out in order of ``at``.

The fast clock runs each speaker on a thread of its own (:mod:`assist.pipeline`). Each thread
is a *lane*: it posts its events with how far it has got in call time (it will post nothing
earlier, though more at that very time). An event goes out once every lane has got past
it, so the merged stream's ``at`` never decreases, and its order is the same in every run
however the threads were scheduled (ties go to the lower lane, then to the order posted).
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Iterable

from assist.events import Event


class Lanes:
    def __init__(self, count: int) -> None:
        self._cond = threading.Condition()
        self._progress = [0.0] * count
        self._heap: list[tuple[float, int, int, Event]] = []
        self._posted = 0
        self._error: BaseException | None = None

    def post(self, lane: int, events: Iterable[Event], progress: float) -> None:
        """Lane ``lane`` has every event before call time ``progress`` in (``math.inf``: done)."""
        with self._cond:
            for event in events:
                heapq.heappush(self._heap, (event.at, lane, self._posted, event))
                self._posted += 1
            self._progress[lane] = max(self._progress[lane], progress)
            self._cond.notify_all()

    def close(self, lane: int) -> None:
        self.post(lane, (), math.inf)

    def fail(self, error: BaseException) -> None:
        """A lane's thread died: the reader gets the error at its next :meth:`take`."""
        with self._cond:
            self._error = error
            self._cond.notify_all()

    @property
    def horizon(self) -> float:
        """The call time every lane has got to."""
        with self._cond:
            return min(self._progress)

    @property
    def done(self) -> bool:
        with self._cond:
            return self._done()

    def take(self, timeout: float | None = 0.0) -> list[Event]:
        """The events every lane has got past, in order; waits up to ``timeout`` for some."""
        with self._cond:
            if timeout:
                self._cond.wait_for(lambda: self._error is not None or self._ready() or self._done(), timeout)
            if self._error is not None:
                raise self._error
            out: list[Event] = []
            while self._ready():
                out.append(heapq.heappop(self._heap)[3])
            return out

    def _done(self) -> bool:
        return not self._heap and all(p == math.inf for p in self._progress)

    def _ready(self) -> bool:
        return bool(self._heap) and self._heap[0][0] < min(self._progress)


__all__ = ["Lanes"]
