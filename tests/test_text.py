"""One spelling per word: what the rules and the commit policy compare."""

from __future__ import annotations

from assist.text import canonical_tokens


def test_contractions_and_slang_expand():
    assert canonical_tokens(" We're gonna, like, can't!") == ["we", "are", "going", "to", "like", "can", "not"]
    assert canonical_tokens("Alright. OKAY") == canonical_tokens("all right, ok") == ["all", "right", "ok"]


def test_apostrophes_and_punctuation_drop():
    assert canonical_tokens("It’s  the customer's car...") == ["it", "is", "the", "customers", "car"]
    assert canonical_tokens("...") == []
