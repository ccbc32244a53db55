"""Events merged from several threads in order of ``at``."""

from __future__ import annotations

import threading

import pytest

from assist.events import Tick
from assist.lanes import Lanes


def test_an_event_waits_until_every_lane_has_got_past_it():
    lanes = Lanes(2)
    lanes.post(1, [Tick(at=1.0), Tick(at=3.0)], 3.0)
    assert lanes.take() == []  # lane 0 could still post something earlier
    lanes.post(0, [Tick(at=2.0)], 2.0)
    assert [e.at for e in lanes.take()] == [1.0]  # lane 0 may post more at 2.0
    lanes.post(0, [], 2.5)
    assert [e.at for e in lanes.take()] == [2.0]
    lanes.close(0)
    assert lanes.take() == [] and not lanes.done  # lane 1 may post more at 3.0
    lanes.close(1)
    assert [e.at for e in lanes.take()] == [3.0]
    assert lanes.done and lanes.horizon == float("inf")


def test_ties_go_to_the_lower_lane_then_to_the_order_posted():
    lanes = Lanes(2)
    a, b, c = Tick(at=1.0), Tick(at=1.0), Tick(at=1.0)
    lanes.post(1, [a], 1.0)
    lanes.post(0, [b, c], 1.0)
    lanes.close(1)
    lanes.close(0)
    assert [id(e) for e in lanes.take()] == [id(b), id(c), id(a)]


def test_a_lane_that_fails_raises_in_the_reader():
    lanes = Lanes(2)
    lanes.post(0, [Tick(at=0.5)], 0.5)
    threading.Thread(target=lanes.fail, args=(RuntimeError("decoder died"),)).start()
    with pytest.raises(RuntimeError, match="decoder died"):
        lanes.take(timeout=5.0)


def test_take_waits_for_another_thread():
    lanes = Lanes(1)
    timer = threading.Timer(0.05, lanes.post, args=(0, [Tick(at=0.25)], 0.5))
    timer.start()
    assert [e.at for e in lanes.take(timeout=5.0)] == [0.25]
    timer.join()
