"""Shared helpers for benchmarks, eval and tests: text normalisation, WER, word alignment,
latency, and how fast this machine decodes.

Pure Python/numpy, no model of its own: ``from benchmarks._common import wer``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_EQUIV = {"okay": "ok", "alright": "all right", "gonna": "going to", "wanna": "want to"}
# Hesitations a transcript may or may not write down: not words, as Whisper's own English
# normalizer scores them (the phone call's reference leaves most of them out).
_FILLERS = {"hmm", "mm", "mhm", "mmm", "uh", "um"}


def normalize_words(text: str | Sequence[str]) -> list[str]:
    """Lower case, no punctuation, hyphens split, a few spellings unified, no hesitations."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.lower().replace("-", " ").replace("’", "'")
    text = re.sub(r"[^\w' ]+", " ", text)
    out: list[str] = []
    for w in text.split():
        w = w.strip("'")
        if not w or w in _FILLERS:
            continue
        w = _NUMBERS.get(w, w)
        out.extend(_EQUIV.get(w, w).split())
    return out


def _edit_ops(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[str, int | None, int | None]]:
    """Levenshtein alignment: (op, ref index, hyp index), op in ok/sub/del/ins."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), dtype=np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        ri = ref[i - 1]
        for j in range(1, m + 1):
            cost = 0 if ri == hyp[j - 1] else 1
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + cost)
    ops: list[tuple[str, int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (0 if ref[i - 1] == hyp[j - 1] else 1):
            ops.append(("ok" if ref[i - 1] == hyp[j - 1] else "sub", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            ops.append(("del", i - 1, None))
            i -= 1
        else:
            ops.append(("ins", None, j - 1))
            j -= 1
    return ops[::-1]


def wer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Word error rate after :func:`normalize_words` (1.0 for any words against none)."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    errors = sum(op != "ok" for op, _, _ in _edit_ops(ref, hyp))
    return errors / len(ref)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float
    at: float = 0.0


def match_words(reference: Sequence[TimedWord], stream: Sequence[TimedWord]) -> list[tuple[TimedWord, TimedWord]]:
    """Pairs (reference word, stream word) that the text alignment matches exactly.

    Words are normalised one to one (a word that normalises to several, "gonna", keeps
    its first form) so that indices line up.
    """
    def key(w: TimedWord) -> str:
        n = normalize_words(w.text)
        return n[0] if n else ""

    ref = [w for w in reference if key(w)]
    hyp = [w for w in stream if key(w)]
    pairs = []
    for op, i, j in _edit_ops([key(w) for w in ref], [key(w) for w in hyp]):
        if op == "ok":
            pairs.append((ref[i], hyp[j]))
    return pairs


def latencies(reference: Sequence[TimedWord], stream: Sequence[TimedWord]) -> list[float]:
    """``at - end`` of each stream word, ``end`` from the reference word it matches."""
    return [s.at - r.end for r, s in match_words(reference, stream)]


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def window_ms(decoder, window: np.ndarray, runs: int = 9) -> float:
    """Median CPU ms ``decoder.decode(window)`` takes over ``runs`` passes, after one that
    warms up: how fast this machine is today, whatever the code around the decoder does."""
    decoder.decode(window)
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        decoder.decode(window)
        times.append(time.process_time() - t0)
    return 1000 * float(np.median(times))


__all__ = ["TimedWord", "latencies", "match_words", "normalize_words", "percentile", "wer", "window_ms"]
