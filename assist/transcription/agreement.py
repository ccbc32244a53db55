"""The commit policy, pure: which decoded words are new, and which are stable enough to commit.

LocalAgreement-n (Macháček et al., 2023, "Turning Whisper into Real-Time Transcription
System"): a word is committed once the last ``n`` passes over the growing utterance agree on
it and on everything before it. Words already committed are never revisited; what remains
after the agreed prefix is the partial (the current guess).

Everything here works on plain word tuples and is tested without a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assist.text import canonical_tokens
from assist.transcription.base import DecodedWord

_NON_WORD = re.compile(r"[^\w']+")


def normalize(text: str) -> str:
    """Compare words loosely: case, punctuation and hyphens do not count."""
    return _NON_WORD.sub("", text.lower().replace("-", "")).strip("'")


def new_words(
    hypothesis: Sequence[DecodedWord],
    committed: Sequence[DecodedWord],
    *,
    tolerance: float = 0.1,
    max_ngram: int = 5,
) -> list[DecodedWord]:
    """The part of ``hypothesis`` (a decode of a window) after what is already committed.

    Words that end before the last committed word ends (less ``tolerance``) are old. The
    window may still overlap the committed tail slightly (a word cut at the window start),
    or Whisper may echo it: when the first new words repeat the end of the last
    ``max_ngram`` committed words (3 or more tokens at any distance, fewer within 1 s), drop
    them.
    """
    if not committed:
        return list(hypothesis)
    last_end = committed[-1].end
    fresh = [w for w in hypothesis if w.end > last_end + tolerance or w.start > last_end - tolerance]
    # The time test lets through a word that straddles the last end; drop echoes of the tail.
    # Compared by canonical tokens: a pass that hears "going to" after the one that committed
    # "gonna" would otherwise add "to" again ("you're gonna to see"; "alright. right").
    tail = [t for w in committed[-max_ngram:] for t in canonical_tokens(w.text)]
    head: list[str] = []
    ends: list[int] = []  # len(head) after each fresh word
    for w in fresh[:max_ngram]:
        head += canonical_tokens(w.text)
        ends.append(len(head))
    for k in range(len(ends), 0, -1):
        n = ends[k - 1]
        if 0 < n <= len(tail) and tail[-n:] == head[:n] and (n >= 3 or fresh[k - 1].start < last_end + 1.0):
            return fresh[k:]
    return fresh


def agreed_prefix(previous: Sequence[DecodedWord], current: Sequence[DecodedWord]) -> int:
    """How many leading words two hypotheses share (compared with :func:`normalize`)."""
    n = 0
    for a, b in zip(previous, current):
        if normalize(a.text) != normalize(b.text) or not normalize(b.text):
            break
        n += 1
    return n


@dataclass
class LocalAgreement:
    """LocalAgreement-``n`` over successive hypotheses of the uncommitted words.

    ``update`` takes the new words of a pass (see :func:`new_words`) and returns
    ``(commit, partial)``: the words all of the last ``n`` hypotheses agree on, and the
    rest. Times of committed words come from the latest pass.
    """

    n: int = 2
    min_probability: float = 0.0  # never commit a word the latest pass is this unsure of
    history: list[list[DecodedWord]] = field(default_factory=list)

    def update(
        self, words: Sequence[DecodedWord], hold_last: bool = False, last_votes: bool = True,
        sure_prefix: int = 0,
    ) -> tuple[list[DecodedWord], list[DecodedWord]]:
        """``hold_last``: do not commit the hypothesis's last word now (it may be cut off);
        ``last_votes=False``: nor let it agree with the next pass (it is a fragment);
        ``sure_prefix``: this many leading words commit without agreement."""
        words = list(words)
        self.history.append(words if last_votes or not words else words[:-1])
        self.history = self.history[-self.n :]
        k = len(words) if len(self.history) == self.n else 0
        for previous in self.history[:-1]:
            k = min(k, agreed_prefix(previous, words))
        k = max(k, min(sure_prefix, len(words)))
        for i in range(k):
            if words[i].probability < self.min_probability:
                k = i
                break
        if hold_last and words and k == len(words):
            k -= 1
        commit, partial = words[:k], words[k:]
        if commit:
            # What stays in the history must be the uncommitted part of each hypothesis.
            self.history = [h[k:] for h in self.history]
        return commit, partial

    def reset(self) -> None:
        self.history.clear()


__all__ = ["LocalAgreement", "agreed_prefix", "new_words", "normalize"]
