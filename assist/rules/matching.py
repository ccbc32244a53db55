"""Tolerant phrase matching over a stream of committed words.

tiny.en writes "lay offs" for "layoffs", "going to" for "gonna" and misspells a letter here
and there, so phrases are compared after contractions and slang are expanded on both sides
("gonna" = "going to"); a phrase one word longer or shorter than the words said matches
when the letters are the same with the spaces taken out ("lay offs" = "layoffs"), with the
one typo where the transcript split a word in two ("lay of" = "layoff"); word for
word, a word of 5 letters or more may have one typo (two from 11 letters), starting with
the right letter, and short words must be exact ("supposed to be" is not "supposed to
get"). The first two letters of a phrase must match exactly: that keeps "acceptable" from
matching "unacceptable" and "happy" from "unhappy".

A phrase word may end in ``*`` ("refund*" = refund, refunds, refunded); such a phrase is
matched exactly apart from the wildcard.

Matching is incremental: each new token is checked only against the phrases whose length
and first letters fit the few windows of text that end at it, so the cost per word does not
grow with the length of the call or (much) with the number of rules.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from assist.text import canonical_tokens

# A match up to NEGATION_REACH words after one of these is not meant ("not upset", "no
# problem", "not going to cancel my account").
NEGATIONS = frozenset({"not", "no", "never", "hardly", "without"})
NEGATION_REACH = 3
_VALID_PHRASE = re.compile(r"^[A-Za-z0-9' -]+\*?( [A-Za-z0-9'-]+\*?)*$")
_MAX_BUDGET = 2


def edit_budget(length: int) -> int:
    """Typos tolerated in a phrase of ``length`` letters (spaces removed)."""
    return 0 if length < 5 else 1 if length < 11 else 2


def within_distance(a: str, b: str, budget: int) -> bool:
    """Levenshtein distance(a, b) <= budget, giving up as soon as it cannot be."""
    if abs(len(a) - len(b)) > budget:
        return False
    if budget == 0:
        return a == b
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > budget:
            return False
        previous = current
    return previous[-1] <= budget


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrase as written by a trainer, compiled for matching."""

    text: str
    tokens: tuple[str, ...]
    joined: str
    pattern: re.Pattern[str] | None  # set when the phrase has a wildcard

    @property
    def budget(self) -> int:
        return 0 if self.pattern else edit_budget(len(self.joined))


def parse_phrase(text: str) -> Phrase:
    """Compile a phrase; ValueError says what is wrong with it."""
    if not _VALID_PHRASE.match(text.strip()):
        raise ValueError(
            f"invalid phrase {text!r}: use words (letters, digits, ' and -), "
            "optionally ending in * for any ending"
        )
    words = text.strip().split()
    parts: list[str] = []
    tokens: list[str] = []
    wildcard = False
    for word in words:
        star = word.endswith("*")
        toks = canonical_tokens(word.rstrip("*"))
        if not toks:
            raise ValueError(f"invalid phrase {text!r}: {word!r} has no letters")
        if star:
            if len(toks[-1]) < 3:
                raise ValueError(f"invalid phrase {text!r}: need 3 letters before * in {word!r}")
            wildcard = True
            parts.extend(re.escape(t) for t in toks[:-1])
            parts.append(re.escape(toks[-1]) + "[a-z0-9]*")
        else:
            parts.extend(re.escape(t) for t in toks)
        tokens.extend(toks)
    joined = "".join(tokens)
    if len(joined) < 2:
        raise ValueError(f"invalid phrase {text!r}: too short to match reliably")
    pattern = re.compile("".join(parts)) if wildcard else None
    return Phrase(text=text, tokens=tuple(tokens), joined=joined, pattern=pattern)


def _tokens_close(phrase: Phrase, tokens: deque[_Token], first: int) -> bool:
    """Word by word: short words exact, longer ones within their own typo budget."""
    spent = 0
    for i, want in enumerate(phrase.tokens):
        got = tokens[first + i].text
        if got == want:
            continue
        budget = edit_budget(len(want))
        if not budget or got[0] != want[0] or not within_distance(got, want, budget):
            return False
        spent += 1
    return spent <= phrase.budget


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # what the phrase belongs to (a rule id, a heat entry)
    phrase: Phrase
    said: str  # the words as transcribed
    start: float
    end: float


@dataclass(slots=True)
class _Token:
    text: str
    word: int  # index of the Word it came from in the stream


@dataclass
class TokenStream:
    """The recent words of one speaker, as tokens; enough history for the longest phrase."""

    keep: int = 16
    tokens: deque[_Token] = field(default_factory=deque)
    words: dict[int, tuple[str, float, float]] = field(default_factory=dict)
    count: int = 0  # tokens pushed so far
    words_pushed: int = 0

    def push(self, text: str, start: float, end: float) -> int:
        """Add one committed word; returns how many tokens it produced."""
        index = self.words_pushed
        self.words_pushed += 1
        self.words[index] = (text.strip(), start, end)
        new = canonical_tokens(text)
        for tok in new:
            self.tokens.append(_Token(tok, index))
            self.count += 1
        while len(self.tokens) > self.keep:
            self.tokens.popleft()
        oldest = self.tokens[0].word if self.tokens else index
        for stale in [w for w in self.words if w < oldest]:
            del self.words[stale]
        return len(new)

    def fork(self) -> TokenStream:
        """A copy to push guessed words onto without touching this stream."""
        return TokenStream(self.keep, deque(self.tokens), dict(self.words), self.count, self.words_pushed)


class PhraseIndex:
    """Phrases grouped by first letters and length, for cheap incremental matching."""

    def __init__(self) -> None:
        self._fuzzy: dict[tuple[str, int], list[tuple[str, Phrase]]] = {}
        self._wild: dict[str, list[tuple[str, Phrase]]] = {}
        self.max_tokens = 0
        # Per stream: (key, phrase text) -> stream position of the last match's end token,
        # so one utterance of a phrase is reported once, not again one token later.
        self._last: dict[int, dict[tuple[str, str], int]] = {}

    def __len__(self) -> int:
        return sum(map(len, self._fuzzy.values())) + sum(map(len, self._wild.values()))

    def add(self, key: str, phrase: Phrase) -> None:
        self.max_tokens = max(self.max_tokens, len(phrase.tokens))
        if phrase.pattern is not None:
            self._wild.setdefault(phrase.joined[:2], []).append((key, phrase))
        else:
            self._fuzzy.setdefault((phrase.joined[:2], len(phrase.joined)), []).append((key, phrase))

    def match_new(self, stream: TokenStream, new_tokens: int, remember: bool = True) -> list[Match]:
        """Phrases that end at one of the ``new_tokens`` last tokens of ``stream``.

        ``remember=False`` for a throwaway stream (a :meth:`TokenStream.fork`): nothing is
        kept about it.
        """
        if not self.max_tokens or not new_tokens:
            return []
        tokens = stream.tokens
        last = self._last.setdefault(id(stream), {}) if remember else {}
        found: list[Match] = []
        size = len(tokens)
        for end in range(size - new_tokens, size):
            window = ""
            for k in range(1, min(self.max_tokens + 1, end + 1) + 1):
                first = end - k + 1
                window = tokens[first].text + window
                position_start = stream.count - size + first
                if any(tokens[i].text in NEGATIONS for i in range(max(0, first - NEGATION_REACH), first)):
                    continue
                for key, phrase in self._candidates(window, k, tokens, first):
                    seen = (key, phrase.text)
                    if last.get(seen, -1) >= position_start:
                        continue
                    last[seen] = stream.count - size + end
                    found.append(self._match(stream, key, phrase, first, end))
        return found

    def _candidates(self, window: str, k: int, tokens: deque[_Token], first: int):
        head, length = window[:2], len(window)
        for delta in range(-_MAX_BUDGET, _MAX_BUDGET + 1):
            for key, phrase in self._fuzzy.get((head, length + delta), ()):
                n = len(phrase.tokens)
                if k == n:
                    if _tokens_close(phrase, tokens, first):
                        yield key, phrase
                elif abs(k - n) == 1 and window == phrase.joined:  # "lay offs" = "layoffs"
                    yield key, phrase
                elif k == n + 1 and within_distance(window, phrase.joined, min(phrase.budget, 1)):
                    # A phrase word split in two with a typo: "lay of" = "layoff". Only that
                    # way round: a dropped word ("supposed to" for "supposed to be") is no match.
                    yield key, phrase
        for key, phrase in self._wild.get(head, ()):
            n = len(phrase.tokens)
            if n - 1 <= k <= n + 1 and phrase.pattern.fullmatch(window):  # type: ignore[union-attr]
                yield key, phrase

    @staticmethod
    def _match(stream: TokenStream, key: str, phrase: Phrase, first: int, end: int) -> Match:
        first_word, last_word = stream.tokens[first].word, stream.tokens[end].word
        words = [stream.words[i] for i in range(first_word, last_word + 1) if i in stream.words]
        said = " ".join(w[0] for w in words)
        return Match(key=key, phrase=phrase, said=said, start=words[0][1], end=words[-1][2])
