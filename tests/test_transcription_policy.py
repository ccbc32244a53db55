"""The streaming policy without a model: agreement, echo guards, the channel's passes."""

from __future__ import annotations

import numpy as np
import pytest

from assist.transcription.agreement import LocalAgreement, agreed_prefix, new_words, normalize
from assist.transcription.base import DecodedWord, DecodeResult
from assist.transcription.channel import ChannelTranscriber
from assist.transcription.decoder import cut_echo, cut_loop, join_word_pieces

SR = 16_000


def W(text: str, start: float, end: float, p: float = 0.9) -> DecodedWord:
    return DecodedWord(" " + text, start, end, p)


def test_normalize_ignores_case_punctuation_hyphens():
    assert normalize(" Americans,") == normalize("americans") == "americans"
    assert normalize("fellow-men") == "fellowmen"
    assert normalize(" don't") == "don't"


def test_local_agreement_commits_prefix_two_passes_agree_on():
    la = LocalAgreement(2)
    commit, partial = la.update([W("and", 0, 0.3), W("so", 0.3, 0.5)])
    assert commit == [] and [w.text for w in partial] == [" and", " so"]
    commit, partial = la.update([W("And", 0, 0.3), W("so", 0.3, 0.5), W("my", 0.5, 0.7)])
    assert [w.text for w in commit] == [" And", " so"]  # times/spelling of the latest pass
    assert [w.text for w in partial] == [" my"]
    commit, partial = la.update([W("my", 0.5, 0.7), W("fellow", 0.7, 1.0)])
    assert [w.text for w in commit] == [" my"]


def test_local_agreement_stops_at_an_unsure_word():
    la = LocalAgreement(2, min_probability=0.3)
    la.update([W("as", 0, 0.3, 0.1), W("not", 0.3, 0.6)])
    commit, partial = la.update([W("as", 0, 0.3, 0.1), W("not", 0.3, 0.6)])
    assert commit == [] and len(partial) == 2


def test_local_agreement_can_hold_back_the_last_word():
    la = LocalAgreement(2)
    la.update([W("seems", 0, 0.3), W("extreme.", 0.3, 0.6)])
    commit, partial = la.update([W("seems", 0, 0.3), W("extreme.", 0.3, 0.6)], hold_last=True)
    assert [w.text for w in commit] == [" seems"] and [w.text for w in partial] == [" extreme."]
    commit, partial = la.update([W("extremely", 0.3, 0.7), W("distant", 0.7, 1.0)], hold_last=True)
    assert commit == [] and [w.text for w in partial] == [" extremely", " distant"]


def test_a_fragment_does_not_vote():
    # "no..." (a cut "nobody") then "no bomb.": they must not agree on "no".
    la = LocalAgreement(2)
    la.update([W("it", 0, 0.3), W("no...", 0.3, 0.4)], hold_last=True, last_votes=False)
    commit, partial = la.update([W("it", 0, 0.3), W("no", 0.3, 0.5), W("bomb.", 0.5, 0.6)], hold_last=True)
    assert [w.text for w in commit] == [" it"] and [w.text for w in partial] == [" no", " bomb."]


def test_local_agreement_commits_a_sure_prefix_at_once():
    la = LocalAgreement(2)
    commit, partial = la.update([W("we", 0, 0.3), W("ordered", 0.3, 0.6)], sure_prefix=1)
    assert [w.text for w in commit] == [" we"] and [w.text for w in partial] == [" ordered"]
    commit, partial = la.update([W("ordered", 0.3, 0.6), W("twelve", 0.6, 0.9)])
    assert [w.text for w in commit] == [" ordered"]


def test_word_pieces_without_a_leading_space_join_the_word_before():
    pieces = [dict(word=" the", tokens=[1], start=0.0, end=0.2, probability=0.9),
              dict(word=" re", tokens=[2], start=0.2, end=0.3, probability=0.8),
              dict(word="-organization.", tokens=[3, 4], start=0.3, end=0.9, probability=0.6)]
    joined = join_word_pieces(pieces)
    assert [(a["word"], a["start"], a["end"], a["tokens"]) for a in joined] == [
        (" the", 0.0, 0.2, [1]), (" re-organization.", 0.2, 0.9, [2, 3, 4])]
    assert joined[1]["probability"] == 0.6


def test_agreed_prefix():
    a = [W("a", 0, 1), W("b", 1, 2), W("c", 2, 3)]
    assert agreed_prefix(a, [W("A", 0, 1), W("b,", 1, 2), W("x", 2, 3)]) == 2
    assert agreed_prefix([], a) == 0


def test_new_words_drops_committed_by_time_and_echo():
    committed = [W("ask", 3.0, 3.3), W("not", 3.3, 3.6)]
    hyp = [W("ask", 3.0, 3.3), W("not", 3.3, 3.6), W("what", 3.7, 4.0)]
    assert [w.text for w in new_words(hyp, committed)] == [" what"]
    # A window starting mid-word repeats the committed tail at a later time: an echo.
    hyp = [W("not", 3.55, 3.7), W("what", 3.7, 4.0)]
    assert [w.text for w in new_words(hyp, committed)] == [" what"]
    # An echo of three committed words is dropped wherever it lands.
    committed = [W("for", 9.7, 9.9), W("your", 9.9, 10.1), W("country", 10.1, 10.4)]
    hyp = [W("for", 12.0, 12.2), W("your", 12.2, 12.4), W("country", 12.4, 12.8), W("yes", 13, 13.2)]
    assert [w.text for w in new_words(hyp, committed)] == [" yes"]


def test_new_words_knows_a_word_committed_in_another_spelling():
    # On the phone call one pass committed "gonna", the next heard "going to see": only
    # "see" is new. Likewise "alright" and then "all right, is".
    committed = [W("you're", 161.1, 161.5), W("gonna", 161.6, 161.7)]
    hyp = [W("going", 161.6, 161.7), W("to", 161.7, 161.8), W("see", 161.8, 161.9)]
    assert [w.text for w in new_words(hyp, committed)] == [" see"]
    committed = [W("So,", 226.3, 226.4), W("alright.", 226.5, 226.6)]
    hyp = [W("right,", 226.7, 226.9), W("is", 227.1, 227.2)]
    assert [w.text for w in new_words(hyp, committed)] == [" is"]
    # A word that only begins the committed one's expansion is new: "going" after "want to".
    committed = [W("wanna", 5.0, 5.3)]
    assert [w.text for w in new_words([W("go", 5.4, 5.6)], committed)] == [" go"]


def test_cut_loop_keeps_one_copy():
    assert cut_loop([1, 2, 3, 3, 3, 3]) == [1, 2, 3]
    assert cut_loop([7, 8, 7, 8, 7, 8, 9]) == [7, 8]
    assert cut_loop([5, 5, 5, 6]) == [5, 5, 5, 6]  # "no no no" is speech
    assert cut_loop([1, 2, 3, 4]) == [1, 2, 3, 4]


def test_cut_echo_drops_a_squeezed_repeat_but_keeps_a_real_one():
    words = [W("and", 0, 0.3), W("so", 0.3, 0.5), W("my", 0.5, 0.8), W("fellow", 0.8, 1.2),
             W("and", 1.45, 1.46), W("so", 1.46, 1.47), W("my", 1.47, 1.48)]
    assert [w.text for w in cut_echo(words, 1.5)] == [" and", " so", " my", " fellow"]
    real = [W("can", 6.3, 6.7), W("do", 6.7, 7.0), W("for", 7.0, 7.2), W("you", 7.2, 8.0),
            W("ask", 8.0, 8.6), W("what", 8.6, 8.9), W("you", 8.9, 9.2), W("can", 9.2, 9.5),
            W("do", 9.5, 9.7), W("for", 9.7, 9.9), W("your", 9.9, 10.2)]
    assert cut_echo(real, 11.0) == real


class ScriptDecoder:
    """A fake model: the words of a script that lie inside the window it is given.

    The channel only hands it audio, so the audio itself carries the time: sample i of the
    channel holds i / SR (the tests feed a ramp). A window of glued speech is several runs of
    the ramp end to end: each is heard on its own, at its place in the window.
    """

    def __init__(self, script: list[DecodedWord], unstable_tail: bool = True, stable_cut: bool = False) -> None:
        self.script = script
        self.unstable_tail = unstable_tail
        self.stable_cut = stable_cut  # a cut word is heard as the same shorter word each time
        self.calls: list[tuple[float, float, float, int | None]] = []  # call-time start, end, seconds, budget
        self.heard: list[list[tuple[float, float]]] = []  # per call: the spans of call time in the window

    def decode(self, audio, max_tokens=None):
        if len(audio) == 0:
            return DecodeResult()
        audio = np.asarray(audio, dtype=np.float64)
        breaks = np.flatnonzero(np.abs(np.diff(audio) - 1 / SR) > 0.01) + 1
        pieces = [(a, b) for a, b in zip([0, *breaks], [*breaks, len(audio)]) if b - a > 1]
        self.calls.append((float(audio[0]), float(audio[-1]) + 1 / SR, len(audio) / SR, max_tokens))
        self.heard.append([(round(float(audio[a]), 2), round(float(audio[a]) + (b - a) / SR, 2)) for a, b in pieces])
        words = []
        for i, (a, b) in enumerate(pieces):
            words += self._hear(float(audio[a]), float(audio[a]) + (b - a) / SR, a / SR, last=i == len(pieces) - 1)
        return DecodeResult(tuple(words), tokens=len(words))

    def _hear(self, t0: float, t1: float, offset: float, last: bool) -> list[DecodedWord]:
        words = []
        for w in self.script:
            if w.start >= t0 - 0.05 and w.end <= t1 + 0.05:
                words.append(w.shifted(offset - t0))
            elif not last:
                continue
            elif self.stable_cut and w.start < t1 - 0.1 and w.end > t1:
                words.append(DecodedWord(f" {w.text.strip()[:-1]}.", w.start - t0 + offset, w.start - t0 + offset + 0.05, 0.9))
                break
            elif self.unstable_tail and w.start < t1 - 0.1 and w.end > t1:
                # a word cut by the window's end: a different guess each time
                words.append(DecodedWord(f" {w.text.strip()}{len(self.calls)}", w.start - t0 + offset, t1 - t0 + offset, 0.5))
                break
        return words


def ramp(t0: float, t1: float) -> np.ndarray:
    return (np.arange(int(round(t0 * SR)), int(round(t1 * SR))) / SR).astype(np.float32)


SCRIPT = [W(t, 1.0 + 0.4 * i, 1.0 + 0.4 * i + 0.3) for i, t in enumerate(
    "we ordered twelve cases and only six arrived yesterday".split())]


def drive(channel: ChannelTranscriber, end: float, turns: list[tuple[float, float]], step: float = 0.05,
          finish: bool = False):
    """Feed audio in steps, open/close turns, run every due pass; return all results."""
    results = []
    t = 0.0
    pending = sorted([(s, "start") for s, _ in turns] + [(e + 0.25, "end") for _, e in turns])
    ends = {e + 0.25: e for _, e in turns}
    while t < end - 1e-9:
        channel.feed(ramp(t, t + step))
        t = round(t + step, 6)
        if any(a <= t <= b for a, b in turns):
            channel.voiced_until = t  # what the VAD tells the pipeline
        while pending and pending[0][0] <= t + 1e-9:
            when, kind = pending.pop(0)
            if kind == "start":
                channel.speech_start(when)
            else:
                channel.speech_end(ends[when])
        while (r := channel.run_pass()) is not None:
            results.append((t, r))
    if finish:
        channel.finish()
        while (r := channel.run_pass()) is not None:
            results.append((t, r))
    return results


def committed_text(results) -> list[str]:
    return [normalize(w.text) for _, r in results for w in r.committed]


def test_channel_commits_everything_once_in_order_and_never_retracts():
    dec = ScriptDecoder(SCRIPT)
    ch = ChannelTranscriber("rep", dec)
    results = drive(ch, 6.0, [(0.95, 1.0 + 0.4 * 8 + 0.3)])
    committed = [w for _, r in results for w in r.committed]
    assert [normalize(w.text) for w in committed] == [normalize(w.text) for w in SCRIPT]
    starts = [w.start for w in committed]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in committed)
    # most words were committed before the turn ended (interim passes did their job)
    final = [r for _, r in results if r.kind == "final"][0]
    assert len(final.committed) <= 2
    assert results[-1][1].partial == []


def test_a_word_cut_by_the_window_is_not_committed_while_speech_goes_on():
    # Whisper hears the cut "yesterday" as "yesterda." in two passes running: they agree.
    script = [W(t, 1.0 + 0.6 * i, 1.0 + 0.6 * i + 0.55) for i, t in enumerate(
        "we ordered twelve cases yesterday".split())]
    ch = ChannelTranscriber("rep", ScriptDecoder(script, unstable_tail=False, stable_cut=True), interval=0.1)
    results = drive(ch, 5.0, [(0.95, script[-1].end)], step=0.02)
    committed = [w.text.strip() for _, r in results for w in r.committed]
    assert committed == [w.text.strip() for w in script]


class Hearing:
    """A fake model that hears, in a window ending at call time t, the words listed for the
    latest moment <= t: ``[(moment, [(text, start, end, probability), ...]), ...]``."""

    def __init__(self, table):
        self.table = table

    def decode(self, audio, max_tokens=None):
        t0, t1 = float(audio[0]), float(audio[-1]) + 1 / SR
        words = next(ws for at, ws in reversed(self.table) if at <= t1 + 1e-6)
        return DecodeResult(tuple(DecodedWord(" " + x, a - t0, min(b, t1) - t0, p) for x, a, b, p in words), tokens=4)


def test_a_last_word_cut_by_the_window_does_not_vote():
    # jfk.flac, measured: "you" of "your" at a window's very end, then "you are cutting" for
    # the "your country" not yet all heard: two passes agreed on "what you".
    what, you = ("what", 1.0, 1.3, 0.9), ("you", 1.3, 9.0, 0.85)  # to the window's end
    table = [(0.0, []), (1.45, [what, you]), (1.7, [what, you, ("are", 1.5, 1.6, 0.8), ("cutting", 1.6, 1.7, 0.1)]),
             (1.95, [what, ("your", 1.3, 1.5, 0.9), ("country", 1.55, 1.9, 0.99)])]
    ch = ChannelTranscriber("rep", Hearing(table), first_pass=0.1)
    results = drive(ch, 3.0, [(0.95, 1.9)])
    assert committed_text(results) == ["what", "your", "country"]


@pytest.mark.parametrize("sure_alone, sure_margin, alone", [(True, 0.1, ["we"]), (False, 0.1, []), (True, 1.5, [])])
def test_a_sure_whole_word_commits_on_one_pass(sure_alone, sure_margin, alone):
    # "we" (p 0.95) commits on the first pass that hears it; "ordered" (p 0.6) waits for a
    # second pass; "twelve" is the pass's last word, which may be cut: it waits too. With
    # sure_margin past the audio after "we", it waits for a second pass as well. The likely
    # rule is off, or it would commit "we" (0.7 s or more before the window's end) by itself.
    words = [("we", 1.0, 1.2, 0.95), ("ordered", 1.2, 1.5, 0.6), ("twelve", 1.5, 1.8, 0.95)]
    ch = ChannelTranscriber("rep", Hearing([(0.0, []), (1.9, words)]), first_pass=0.1, sure_alone=sure_alone,
                            sure_margin=sure_margin, likely=1.01)
    results = drive(ch, 3.0, [(0.95, 2.4)], step=0.05)
    heard = [r for _, r in results if r.committed or r.partial]
    assert [normalize(w.text) for w in heard[0].committed] == alone
    assert committed_text(results) == ["we", "ordered", "twelve"]


@pytest.mark.parametrize("likely", [0.5, 1.01])
def test_a_likely_word_with_audio_after_it_commits_on_one_pass(likely):
    # "ordered" (p 0.6) ends 0.9 s before the window's end: heard with what follows it, it
    # commits on the first pass; "cases" (p 0.6) ends 0.4 s before it and waits for a
    # second pass, as "ordered" does when only sure words may commit alone.
    words = [("we", 1.0, 1.2, 0.95), ("ordered", 1.2, 1.5, 0.6), ("cases", 1.5, 2.0, 0.6),
             ("twelve", 2.0, 2.3, 0.95)]
    ch = ChannelTranscriber("rep", Hearing([(0.0, []), (2.4, words)]), first_pass=0.1, likely=likely)
    results = drive(ch, 4.0, [(0.95, 3.4)], step=0.05)
    heard = [r for _, r in results if r.committed or r.partial]
    assert [normalize(w.text) for w in heard[0].committed] == (["we", "ordered"] if likely < 1 else ["we"])
    assert committed_text(results) == ["we", "ordered", "cases", "twelve"]


def test_a_held_last_word_is_let_go_while_noise_keeps_the_turn_open():
    # "...turn the car back off." then the VAD hears the line's noise for seconds: Whisper
    # keeps "off." as the last word, stretched to the window's end (measured: 7 s late).
    words = [("turn", 1.0, 1.3, 0.9), ("it", 1.3, 1.5, 0.9), ("off.", 1.5, 9.0, 0.95)]
    ch = ChannelTranscriber("rep", Hearing([(0.0, []), (1.8, words)]), first_pass=0.1)
    results = drive(ch, 6.0, [(0.95, 5.9)])
    at = {normalize(w.text): t for t, r in results for w in r.committed}
    assert list(at) == ["turn", "it", "off"]
    assert at["off"] < 1.8 + ch.hold_for + 2 * ch.interval + 0.1


def test_the_final_pass_keeps_a_soft_last_word_the_vad_missed():
    # The VAD ended the turn at 1.44 s; "off." starts at 1.55 s: it is still in the window.
    words = [("back", 1.0, 1.4, 0.9), ("off.", 1.55, 1.65, 0.9)]
    ch = ChannelTranscriber("rep", Hearing([(0.0, []), (1.5, words[:1]), (1.66, words)]), first_pass=0.1)
    results = drive(ch, 3.0, [(0.95, 1.44)], step=0.02)
    assert committed_text(results) == ["back", "off"]


# The turn ends on "sort" (p 0.3), the last thing heard: the speaker may only have paused.
SORT_TURN = [(0.0, []), (1.4, [("we", 1.0, 1.2, 0.95), ("sort", 1.25, 1.5, 0.3)])]
SORTED_IT_OUT = [(1.95, [("we", 1.0, 1.2, 0.95), ("sorted", 1.25, 1.5, 0.8), ("it", 2.0, 2.2, 0.9),
                        ("out", 2.3, 2.6, 0.9)])]


@pytest.mark.parametrize("final_wait, heard", [(0.5, ["we", "sorted", "it", "out"]), (0.0, ["we", "sort", "it", "out"])])
def test_a_final_pass_leaves_its_unsure_tail_to_a_turn_that_goes_on(final_wait, heard):
    # The VAD ends the turn in a pause at 1.5 s and the speaker goes on at 1.9 s: the passes
    # that hear what follows decide the unsure word, where the final pass would have
    # committed its guess.
    ch = ChannelTranscriber("rep", Hearing(SORT_TURN + SORTED_IT_OUT), first_pass=0.1, final_wait=final_wait)
    results = drive(ch, 4.0, [(0.95, 1.5), (1.9, 2.7)], step=0.05)
    assert committed_text(results) == heard


def test_a_held_tail_commits_by_final_hold_even_while_passes_disagree():
    # The speaker goes on, but the passes after it never agree on the held word: it commits
    # as the latest of them heard it, final_hold after the VAD end, not at the next turn end.
    flip = [(round(1.95 + 0.25 * i, 2), [("we", 1.0, 1.2, 0.95), ("sorted" if i % 2 else "sordid", 1.25, 1.5, 0.4),
                                         ("it", 2.0, 2.2, 0.9)]) for i in range(8)]
    ch = ChannelTranscriber("rep", Hearing(SORT_TURN + flip), first_pass=0.1, final_wait=0.5, final_hold=1.0)
    results = drive(ch, 4.5, [(0.95, 1.5), (1.9, 3.6)], step=0.05)
    at = {normalize(w.text): t for t, r in results for w in r.committed}
    assert list(at)[0] == "we" and list(at)[1] in ("sorted", "sordid") and list(at)[2:] == ["it"]
    assert at[list(at)[1]] < 1.5 + 1.0 + 0.1


def test_an_unsure_tail_commits_when_the_speaker_does_not_go_on():
    ch = ChannelTranscriber("rep", Hearing(SORT_TURN), first_pass=0.1, final_wait=0.5)
    results = drive(ch, 4.0, [(0.95, 1.5)], step=0.05)
    at = {normalize(w.text): t for t, r in results for w in r.committed}
    assert list(at) == ["we", "sort"]
    assert at["we"] < 1.8 and 2.0 <= at["sort"] < 2.1  # the VAD end + final_wait
    assert not ch.busy and results[-1][1].kind == "final" and results[-1][1].partial == []
    # the end of the stream does not wait
    ch = ChannelTranscriber("rep", Hearing(SORT_TURN), first_pass=0.1, final_wait=0.5)
    results = drive(ch, 1.8, [(0.95, 1.5)], step=0.05, finish=True)
    assert committed_text(results) == ["we", "sort"]


def test_no_interim_pass_while_nothing_new_is_voiced():
    dec = ScriptDecoder(SCRIPT)
    ch = ChannelTranscriber("rep", dec)
    ch.feed(ramp(0, 2.0))
    ch.speech_start(0.9)
    ch.voiced_until = 2.0
    assert ch.run_pass().kind == "partial"
    ch.feed(ramp(2.0, 2.5))  # a pause inside the turn: the VAD has not closed it yet
    assert ch.run_pass() is None
    ch.voiced_until = 2.5
    assert ch.run_pass().kind == "partial"


def test_channel_runs_no_pass_without_speech():
    dec = ScriptDecoder(SCRIPT)
    ch = ChannelTranscriber("rep", dec)
    assert drive(ch, 5.0, []) == []
    assert dec.calls == []


def test_channel_clamps_word_ends_at_the_vad_end():
    stretched = [W("hello", 1.0, 1.4), W("there", 1.5, 3.5)]  # Whisper stretches the last word

    class Stretch(ScriptDecoder):
        def decode(self, audio, max_tokens=None):
            t0 = float(audio[0])
            return DecodeResult(tuple(w.shifted(-t0) for w in stretched if w.start < t0 + len(audio) / SR))

    ch = ChannelTranscriber("rep", Stretch([]), partial_passes=False)
    results = drive(ch, 4.0, [(0.9, 1.9)], finish=True)
    words = [w for _, r in results for w in r.committed]
    assert [w.text for w in words] == [" hello", " there"]
    assert words[-1].end <= 1.9


def test_turns_are_heard_glued_after_the_ones_before():
    # "and so my fellow Americans" ... "ask not": the VAD makes two turns of one sentence,
    # and Whisper hears a cold 0.6 s "Ask" as "S.". So the second turn's windows hold the
    # first turn's audio too, and the seconds of silence between them are left out.
    first = [W(t, 1.0 + 0.4 * i, 1.3 + 0.4 * i) for i, t in enumerate("and so my fellow americans".split())]
    second_at = first[-1].end + 3.0
    second = [W(t, second_at + 0.4 * i, second_at + 0.3 + 0.4 * i) for i, t in enumerate("ask not".split())]
    dec = ScriptDecoder(first + second, unstable_tail=False)
    ch = ChannelTranscriber("rep", dec, min_commit_probability=0.0)
    turns = [(0.95, first[-1].end), (second_at - 0.05, second[-1].end)]
    results = drive(ch, second[-1].end + 1.0, turns)
    committed = [w for _, r in results for w in r.committed]
    assert [normalize(w.text) for w in committed] == "and so my fellow americans ask not".split()
    # times are call time, not time along the glued speech
    times = [t for w in committed for t in (w.start, w.end)]
    assert times == pytest.approx([t for w in first + second for t in (w.start, w.end)], abs=0.01)
    second_turn = [spans for spans in dec.heard if spans[-1][0] >= second_at - 1.0]
    assert second_turn
    for spans in second_turn:
        (a, b), (c, _) = spans
        assert a <= first[0].start and b == pytest.approx(first[-1].end + 0.25, abs=0.06)  # to the VAD's end
        assert c == pytest.approx(second_at - 0.05 - ch.pad, abs=0.01)  # from the pad before the turn


@pytest.mark.parametrize("gap,longest", [(0.2, 6.5), (0.05, 12.5)])
def test_long_speech_is_heard_in_windows_cut_in_pauses(gap, longest):
    step = 0.3 + gap
    script = [W(f"w{i}", 0.5 + step * i, 0.5 + step * i + 0.3) for i in range(int(24 / step))]
    dec = ScriptDecoder(script)
    ch = ChannelTranscriber("rep", dec)
    results = drive(ch, 26.0, [(0.45, script[-1].end)], step=0.1)
    committed = [w for _, r in results for w in r.committed]
    assert [w.text for w in committed] == [w.text for w in script]
    windows = [seconds for _, _, seconds, _ in dec.calls]
    assert max(windows) < longest  # never the whole turn; longer without pauses to cut in
    assert min(windows[len(windows) // 2 :]) >= ch.keep - 0.5  # context kept before new words
    # every window starts between words, never inside one
    for t0, _, _, _ in dec.calls:
        assert not any(w.start + 0.01 < t0 < w.end - 0.01 for w in script)


def test_fast_mode_overflow_pass_splits_long_turns():
    script = [W(f"w{i}", 0.5 + 0.4 * i, 0.5 + 0.4 * i + 0.3) for i in range(100)]  # 40 s
    dec = ScriptDecoder(script, unstable_tail=False)
    ch = ChannelTranscriber("rep", dec, partial_passes=False, overflow_window=15.0)
    results = drive(ch, 42.0, [(0.45, 40.3)], step=0.25, finish=True)
    kinds = [r.kind for _, r in results]
    assert "overflow" in kinds and kinds[-1] == "final"
    committed = [w for _, r in results for w in r.committed]
    assert [w.text for w in committed] == [w.text for w in script]
    assert max(seconds for _, _, seconds, _ in dec.calls) <= 15.5


def test_words_before_the_window_are_let_go():
    # An hour-long call must not grow what every pass scans: the window's words and a short
    # tail before it are all the channel keeps.
    script = [W(f"w{i}", 1.0 + 0.4 * i, 1.0 + 0.4 * i + 0.3) for i in range(100)]
    ch = ChannelTranscriber("rep", ScriptDecoder(script))
    results = drive(ch, 43.0, [(0.95, 41.0)], finish=True)
    assert committed_text(results) == [normalize(w.text) for w in script]
    assert len(ch.committed) <= 2 * ch.max_window / 0.4 + ch.TAIL  # a window is at most 2 × max_window
    assert ch.committed[-1].text == " w99"


@pytest.mark.parametrize("n", [2, 3])
def test_agreement_n_changes_how_soon_words_commit(n):
    dec = ScriptDecoder(SCRIPT)
    ch = ChannelTranscriber("rep", dec, agreement=n)
    results = drive(ch, 6.0, [(0.95, 4.5)])
    committed = [w for _, r in results for w in r.committed]
    assert [normalize(w.text) for w in committed] == [normalize(w.text) for w in SCRIPT]


def test_fast_mode_decodes_turns_in_long_batches():
    script = [W("one", 1.0, 1.3), W("two", 2.0, 2.3), W("three", 9.0, 9.3)]
    dec = ScriptDecoder(script, unstable_tail=False)
    ch = ChannelTranscriber("rep", dec, partial_passes=False)
    results = drive(ch, 13.0, [(0.95, 1.35), (1.95, 2.35), (8.95, 9.35)], finish=True)
    assert [[w.text.strip() for w in r.committed] for _, r in results] == [["one", "two", "three"]]
    # one window: the turns glued (the first two join: their pads meet)
    assert len(dec.calls) == 1 and [a for a, _ in dec.heard[0]] == pytest.approx([0.55, 8.55])


def test_the_budget_follows_the_words_in_the_window():
    dec = ScriptDecoder(SCRIPT)
    ch = ChannelTranscriber("rep", dec)
    drive(ch, 6.0, [(0.95, SCRIPT[-1].end)])
    budgets = [b for _, _, _, b in dec.calls]
    assert budgets[0] is None  # nothing heard yet: the decoder's own cap
    # one token per word here: the budget grows with the words and the audio after them
    assert all(b is not None and b <= 6 + len(SCRIPT) + ch.token_rate * 1.0 for b in budgets[1:])
