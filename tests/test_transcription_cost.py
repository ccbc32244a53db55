"""The simulated clock's cost models."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from assist.transcription.base import DecodeResult
from assist.transcription.cost import FixedCost, parse_sim_time, sim_time_arg


def test_sim_time_specs():
    assert parse_sim_time("cpu") == ("cpu", 1.0) and parse_sim_time("wall") == ("wall", 1.0)
    assert parse_sim_time("model") == ("model", 1.0) and parse_sim_time("model:2.5") == ("model", 2.5)
    for bad in ("gpu", "model:", "model:-1", "model:x", "cpu:2", ""):
        with pytest.raises(ValueError, match="expected cpu, wall or model"):
            parse_sim_time(bad)
    assert sim_time_arg("model:2") == "model:2"
    with pytest.raises(argparse.ArgumentTypeError, match="gpu: expected cpu, wall or model"):
        sim_time_arg("gpu")


class Tokens:
    def __init__(self, tokens: int) -> None:
        self.tokens, self.calls = tokens, []

    def decode(self, audio, max_tokens=None):
        self.calls.append((len(audio), max_tokens))
        return DecodeResult(tokens=self.tokens)


def test_fixed_cost_charges_window_and_tokens_and_passes_the_call_on():
    inner = Tokens(17)
    cost = FixedCost(inner, scale=2.0)
    assert cost.decode(np.zeros(32_000, np.float32), 40).tokens == 17
    assert inner.calls == [(32_000, 40)]
    # 2 × (10 ms + 2 s × 8 ms + (17 + 3) tokens × 2 ms)
    assert cost.clock() == pytest.approx(2 * (0.010 + 0.016 + 0.040))
