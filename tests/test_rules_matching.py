"""Tolerant phrase matching: what tiny.en writes still matches, near words do not."""

from __future__ import annotations

import pytest

from assist.rules.matching import PhraseIndex, TokenStream, parse_phrase, within_distance


def matches(phrase: str, said: str) -> list[str]:
    index = PhraseIndex()
    index.add("rule", parse_phrase(phrase))
    stream = TokenStream()
    found = []
    for i, word in enumerate(said.split()):
        found += [m.said for m in index.match_new(stream, stream.push(" " + word, i, i + 0.5))]
    return found


@pytest.mark.parametrize("phrase,said", [
    ("layoffs", "there will be lay offs soon"),
    ("lay offs", "there will be layoffs soon"),
    ("gonna cancel", "we are going to cancel"),
    ("going to cancel", "we're gonna cancel"),
    ("i will check", "I'll check that"),
    ("unacceptable", "this is unaceptable"),
    ("disappointed with", "I'm dissapointed with it"),
    ("refund*", "I want it refunded now"),
    ("never again", "Never, again!"),
])
def test_tolerant_matches(phrase, said):
    assert len(matches(phrase, said)) == 1


@pytest.mark.parametrize("phrase,said", [
    ("unacceptable", "that is acceptable"),
    ("unhappy", "I am happy"),
    ("layoff", "the layout is fine"),
    ("supposed to be", "I was supposed to get it"),
    ("upset", "I am not upset at all"),
    ("cancel my account", "no I'm not going to cancel my account"),
    ("refund*", "we refinanced"),
])
def test_near_misses_do_not_match(phrase, said):
    assert matches(phrase, said) == []


def test_a_phrase_said_once_matches_once_and_reports_the_words_said():
    assert matches("layoff", "the layoffs are coming") == ["layoffs"]
    assert matches("lay offs", "lay offs and more lay offs") == ["lay offs", "lay offs"]


def test_match_times_span_the_words():
    index = PhraseIndex()
    index.add("r", parse_phrase("budget cuts"))
    stream = TokenStream()
    index.match_new(stream, stream.push(" budget", 1.0, 1.4))
    (m,) = index.match_new(stream, stream.push(" cuts.", 1.4, 1.9))
    assert (m.key, m.start, m.end, m.said) == ("r", 1.0, 1.9, "budget cuts.")


@pytest.mark.parametrize("bad", ["", "a", "lay*offs", "x*", "what?", "bad**"])
def test_invalid_phrases(bad):
    with pytest.raises(ValueError):
        parse_phrase(bad)


def test_within_distance():
    assert within_distance("layofs", "layoffs", 1) and not within_distance("layout", "layoffs", 1)


def test_a_split_word_with_a_typo_still_matches():
    # tiny.en wrote "lay of Cinert department" for "layoffs in our department" on a fixture.
    index = PhraseIndex()
    index.add("empathize", parse_phrase("layoff"))
    stream = TokenStream()
    found = []
    for i, word in enumerate(["there", "are", "going", "to", "be", "lay", "of", "Cinert"]):
        found += index.match_new(stream, stream.push(word, i, i + 0.5))
    assert [m.said for m in found] == ["lay of"]
    # ...but a phrase with a word dropped from it is no match.
    index.add("verify", parse_phrase("supposed to be"))
    stream = TokenStream()
    for i, word in enumerate(["I", "was", "supposed", "to", "get", "it"]):
        assert not index.match_new(stream, stream.push(word, i, i + 0.5))
