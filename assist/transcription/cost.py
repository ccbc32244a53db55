"""What a simulated run charges each decoding pass: measured time, or a fixed cost model.

The simulated clock (:mod:`assist.pipeline`) advances by what each pass costs. Measured
time makes the schedule this machine's own: a slower CPU commits words later, and a prompt
that depends on when words arrive may land elsewhere. The fixed model charges every pass
the same on any machine, so a run repeats exactly where the model's arithmetic does (the
eval test in CI, and benchmarks comparing two variants).
"""

from __future__ import annotations

import argparse

import numpy as np

from .base import DecodeResult, Decoder

SIM_TIMES = "cpu, wall or model[:SCALE]"


def parse_sim_time(spec: str) -> tuple[str, float]:
    """``"cpu"``, ``"wall"`` or ``"model[:SCALE]"`` → (kind, scale); ValueError otherwise."""
    kind, colon, scale = spec.partition(":")
    if kind in ("cpu", "wall") and not colon:
        return kind, 1.0
    if kind == "model":
        try:
            value = float(scale) if colon else 1.0
        except ValueError:
            value = -1.0
        if value > 0:
            return kind, value
    raise ValueError(f"sim_time {spec!r}: expected {SIM_TIMES}")


def sim_time_arg(text: str) -> str:
    """argparse ``type=`` for a ``--sim-time`` option: the spec itself, checked."""
    try:
        parse_sim_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected {SIM_TIMES}") from None
    return text


class FixedCost:
    """Wraps a decoder; :meth:`clock` reads what its passes cost on a fixed model.

    The model (10 ms + 8 ms per second of window + 2 ms per token, the Intel machines the
    stream was tuned on; ×SCALE) puts the p50 where their CPU time does.
    """

    def __init__(self, decoder: Decoder, scale: float = 1.0) -> None:
        self.decoder, self.scale, self.spent = decoder, scale, 0.0

    def decode(self, audio: np.ndarray, max_tokens: int | None = None) -> DecodeResult:
        result = self.decoder.decode(audio, max_tokens)
        self.spent += self.scale * (0.010 + 0.008 * len(audio) / 16000 + 0.002 * (result.tokens + 3))
        return result

    def clock(self) -> float:
        return self.spent


__all__ = ["FixedCost", "SIM_TIMES", "parse_sim_time", "sim_time_arg"]
