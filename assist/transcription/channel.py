"""One speaker's streaming transcriber: glued speech, a decoder, a commit policy.

The pipeline feeds every sample of the channel (:meth:`ChannelTranscriber.feed`) and the
VAD's turn boundaries (:meth:`speech_start`, :meth:`speech_end`), asks when the next pass is
due (:meth:`due`), and runs passes (:meth:`run_pass`) one at a time. Nothing here knows the
clock or threads; the decoder is anything with ``decode(audio, max_tokens)``.

Policy:
- The speaker's turns go onto a :class:`~assist.transcription.timeline.SpeechTimeline`, each
  from ``pad`` seconds before the VAD heard it start (Silero hears a quiet caller's first
  syllable late) to the VAD's end, the silence between turns left out: as offline VAD
  decoding does, so that every phrase is heard after the ones before it.
- A window runs from an *anchor* to the timeline's end. While a turn is open, a *partial
  pass* decodes it every ``interval`` seconds of new speech; LocalAgreement-n commits the
  prefix the last n passes agree on, the rest is the partial.
- A word Whisper is ``sure`` of and heard whole (not the last of the pass, ending
  ``sure_margin`` seconds before the window's end) commits on one pass; so does a
  ``likely`` one heard with ``heard_after`` seconds of the window after it (a word next to
  the window's end may merge with a cut one: "you" + "r"). ``sure_alone=False`` turns both
  off.
- The window's end may cut the last word. Such a word does not vote in the agreement when
  it reaches the window's end unsure (``sure``) or trails off ("no..."): two passes heard
  "what you" of "what your country". A last word that ends a sentence ("extreme.") is also
  held back for up to ``hold_for`` seconds while the VAD hears speech going on past it.
- At a turn's end a *final pass* decodes the window up to the VAD end and commits the rest;
  word ends are clamped to the VAD end (Whisper stretches the last word into the silence).
  The window stays open across turns: the next turn is heard after this one.
- The VAD's turn end is often a pause the speaker goes on from. With ``final_wait`` > 0
  (off by default until the eval tests confirm it: docs/transcription.md), the final
  pass's words from the first one under ``likely`` on are *held*: if the speaker has not
  gone on ``final_wait`` seconds after the VAD end, they commit as that pass heard them; if
  they have, the next passes hear them with what follows (the final pass's words one
  vote), and what is still uncommitted ``final_hold`` seconds after the VAD end commits as
  the latest pass heard it.
- Once the window is longer than ``max_window`` seconds, the anchor moves to a pause after a
  committed word (a sentence end if there is one) at least ``keep`` seconds before the
  window's end: the next words are heard after that much of what came before. A window
  that still reaches ``overflow_window`` (no agreement) gets an *overflow pass* that
  commits the words ending ``overflow_keep`` seconds before its end.
- No interim pass while nothing new was voiced since the last one (``voiced_until``, from
  the VAD): a pause before the VAD closes the turn would only repeat the last pass.
- Without interim passes (the fast clock), a final pass runs only once ``batch_window``
  seconds of speech are waiting, or at the end of the stream: few, long decodes.

Measured on the real phone call (docs/transcription.md): decoding each turn on its own cost
the agent's side 0.05 of WER against gluing; 30 ms of pad instead of 400 ms doubled the
caller's errors; the committed text as a prompt made both sides worse.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from assist.events import Speaker
from assist.transcription.agreement import LocalAgreement, new_words, normalize
from assist.transcription.base import DecodedWord, Decoder
from assist.transcription.timeline import SampleBuffer, SpeechTimeline

SAMPLE_RATE = 16_000
TRAILING = ("...", "…", "-", "—")  # how Whisper ends a word it heard only part of
SENTENCE_END = (".", "?", "!")


@dataclass
class _HeldTail:
    """A final pass's unsure words, waiting to hear whether the speaker goes on.

    They commit as that pass heard them at ``wait_until`` (call time) if the speaker has
    not gone on; if they have, the next passes hear them with what follows, this pass's
    words one vote in the agreement, and whatever of them is still uncommitted at
    ``hold_until`` commits as the latest pass heard it.
    """

    words: list[DecodedWord]  # speech time
    limit: float  # the VAD end, speech time
    wait_until: float
    hold_until: float
    resumed: bool = False

    @property
    def due(self) -> float:
        return self.hold_until if self.resumed else self.wait_until


@dataclass
class PassResult:
    """What one pass produced, in call time; the pipeline stamps it with ``at``."""

    kind: str  # "partial" | "final" | "overflow"
    committed: list[DecodedWord]
    partial: list[DecodedWord]
    window: float = 0.0  # seconds of audio decoded (0: none, a held tail let go)
    rejected: str = ""


class ChannelTranscriber:
    TAIL = 5  # committed words kept from before the window (new_words compares up to 5)

    def __init__(
        self,
        speaker: Speaker,
        decoder: Decoder,
        *,
        interval: float = 0.25,
        first_pass: float = 0.4,
        pad: float = 0.4,
        max_window: float = 6.0,
        keep: float = 3.0,
        overflow_window: float = 24.0,
        overflow_keep: float = 2.0,
        agreement: int = 2,
        min_commit_probability: float = 0.1,
        min_gap: float = 0.15,
        partial_passes: bool = True,
        batch_window: float = 20.0,
        token_rate: float = 6.0,
        token_slack: int = 6,
        cut_margin: float = 0.1,
        sure_margin: float = 0.1,
        hold_for: float = 0.6,
        sure: float = 0.9,
        sure_alone: bool = True,
        likely: float = 0.5,
        heard_after: float = 0.6,
        final_wait: float = 0.0,
        final_hold: float = 1.0,
    ) -> None:
        self.speaker = speaker
        self.decoder = decoder
        self.interval = interval
        self.first_pass = first_pass
        self.pad = pad
        self.max_window = max_window
        self.keep = keep
        self.overflow_window = overflow_window
        self.overflow_keep = overflow_keep
        self.partial_passes = partial_passes
        self.batch_window = batch_window
        self.min_gap = min_gap
        self.token_rate = token_rate
        self.token_slack = token_slack
        self.cut_margin = cut_margin
        self.sure_margin = sure_margin
        self.hold_for = hold_for
        self.sure = sure
        self.sure_alone = sure_alone
        self.likely = likely
        self.heard_after = heard_after
        self.final_wait = final_wait
        self.final_hold = final_hold
        self._pending: _HeldTail | None = None
        self._held: tuple[str, float, float] | None = None  # last word held: text, start, since
        self.voiced_until = 0.0  # call time: end of the last voiced VAD frame (set by the pipeline)
        self.timeline = SpeechTimeline()
        # Committed words of the window and the TAIL before it, in *speech* time (the
        # timeline's); passes hand out call time.
        self.committed: list[DecodedWord] = []
        self.passes = 0
        self._agreement = LocalAgreement(agreement, min_commit_probability)
        self._guess: list[DecodedWord] = []  # the uncommitted words of the last pass
        self._anchor = 0.0  # speech time where the window starts
        self._recent = SampleBuffer()  # the last moments of call audio (for the pad), by call sample
        self._open: float | None = None  # call time the open turn began
        self._finals: deque[tuple[float, float]] = deque()  # (window end, VAD end), speech time
        self._waiting_end: float | None = None  # fast clock: the VAD end of speech not yet decoded
        self._last_pass = -1.0  # speech time the last partial pass's window ended
        self._last_pass_call = -1.0  # the same in call time
        self._tokens_per_word = 0.0  # of the last pass that heard words (0: none yet)

    # -- audio ------------------------------------------------------------------------------
    @property
    def audio_time(self) -> float:
        return self._recent.end / SAMPLE_RATE

    def start_at(self, call_sample: int) -> None:
        """The channel's first sample is call sample ``call_sample`` (a file replayed from
        partway): times stay the file's."""
        self._recent = SampleBuffer(call_sample)

    def feed(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not len(samples):
            return
        if self._open is not None:
            self.timeline.append(self._recent.end, samples)
        self._recent.append(samples)
        self._recent.drop_before(self._recent.end - int((self.pad + 0.5) * SAMPLE_RATE))

    # -- turns ------------------------------------------------------------------------------
    def speech_start(self, time: float) -> None:
        """A turn begins at ``time`` (call time): its audio, from ``pad`` before, goes on the
        timeline."""
        if self._open is not None:
            return
        if self._pending is not None:
            self._pending.resumed = True  # the next passes hear the tail with what follows
        recent = self._recent
        start = max(int(round((time - self.pad) * SAMPLE_RATE)), recent.first,
                    int(round(self.timeline.call_end * SAMPLE_RATE)))
        start = min(start, recent.end)
        self.timeline.append(start, recent.read(start, recent.end))
        self._open = time

    def speech_end(self, time: float) -> None:
        """The VAD heard the turn end at ``time``; the audio until now (the VAD's wait for
        silence) stays on the timeline as the turn's tail, and its final pass is due."""
        if self._open is None:
            return
        self._open = None
        limit = self.timeline.to_speech(time)
        if self.partial_passes or self.timeline.end - self._anchor >= self.batch_window:
            self._finals.append((self.timeline.end, limit))
            self._waiting_end = None
        else:
            self._waiting_end = limit

    def finish(self) -> None:
        """End of stream: every turn gets its final pass."""
        if self._open is not None:
            self.speech_end(self.audio_time)
        if self._waiting_end is not None:
            self._finals.append((self.timeline.end, self._waiting_end))
            self._waiting_end = None
        if self._pending is not None:
            self._pending.wait_until = self._pending.hold_until = float("-inf")

    @property
    def speaking(self) -> bool:
        return self._open is not None

    @property
    def busy(self) -> bool:
        """A turn open or awaiting its final pass."""
        return (self._open is not None or bool(self._finals) or self._waiting_end is not None
                or self._pending is not None)

    # -- scheduling -------------------------------------------------------------------------
    def due(self) -> tuple[int, float] | None:
        """``(priority, since)`` when a pass can run now (lower sorts first), else None.

        Final passes first (oldest turn first), then overflow, then partial passes, the
        one that has waited longest first.
        """
        if self._finals:
            return (0, self.timeline.to_call(self._finals[0][1]))
        if self._pending is not None and self.audio_time >= self._pending.due:
            return (0, self.timeline.to_call(self._pending.limit))
        if self.timeline.end - self._anchor >= self.overflow_window:
            return (1, self.timeline.to_call(self._anchor))
        if not self.partial_passes or self._open is None:
            return None
        if self.audio_time - self._open < self.first_pass:
            return None
        if self._last_pass >= 0 and self.timeline.end - self._last_pass < self.interval:
            return None
        if self._last_pass_call >= 0 and self.voiced_until <= self._last_pass_call:
            return None  # nothing voiced since the last pass: it would say the same
        return (2, max(self._last_pass_call, self._open))

    def run_pass(self) -> PassResult | None:
        """Run the most urgent pass; None when none is due."""
        due = self.due()
        if due is None:
            return None
        self.passes += 1
        if due[0] == 0:
            if not self._finals:
                return self._let_go()
            return self._final(*self._finals.popleft())
        if due[0] == 1:
            return self._overflow()
        return self._partial()

    # -- passes -----------------------------------------------------------------------------
    def _budget(self, end: float) -> int | None:
        """Tokens the window can need: its committed words at the last pass's tokens per
        word, and ``token_rate`` a second for the audio after them.

        Without a cap, a window whose speech ends mid-sentence runs on to the decoder's
        limit (on the phone call, 84 tokens generated for 46 kept); the cap stops it close to
        where the speech ends.
        """
        if not self._tokens_per_word:
            return None
        inside = [w for w in self.committed if w.start >= self._anchor]
        after = end - (inside[-1].end if inside else self._anchor)
        return int(self._tokens_per_word * len(inside) + self.token_rate * after + 0.999) + self.token_slack

    def _decode(self, end: float) -> tuple[list[DecodedWord], str, float]:
        """New words (speech time) heard in the window ending at ``end``."""
        audio = self.timeline.slice(self._anchor, end)
        seconds = len(audio) / SAMPLE_RATE
        result = self.decoder.decode(audio, max_tokens=self._budget(end))
        if result.words:
            self._tokens_per_word = result.tokens / len(result.words)
        words = [w.shifted(self._anchor) for w in result.words]
        if self._anchor > 0 and words and words[0].start < self._anchor + 0.15 and words[0].probability < 0.3:
            words = words[1:]  # the tail of the word before the cut, misheard
        return new_words(words, self.committed), result.rejected, seconds

    def _commit(self, words: list[DecodedWord], limit: float | None = None) -> list[DecodedWord]:
        """Append to the committed words, keeping times in order; returns them in call time."""
        out = []
        for w in words:
            if not normalize(w.text):
                continue
            prev_end = self.committed[-1].end if self.committed else 0.0
            start = max(w.start, prev_end)
            end = max(w.end, start)
            if limit is not None:  # Whisper stretches a last word into the silence after it
                end = min(end, max(limit, start + 0.1))
            word = DecodedWord(w.text, start, end, w.probability)
            self.committed.append(word)
            out.append(word)
        return self._in_call_time(out)

    def _in_call_time(self, words: list[DecodedWord]) -> list[DecodedWord]:
        to_call = self.timeline.to_call
        return [DecodedWord(w.text, round(to_call(w.start), 3), round(to_call(w.end), 3), w.probability)
                for w in words]

    def _partial(self) -> PassResult:
        end = self.timeline.end
        fresh, rejected, seconds = self._decode(end)
        self._last_pass, self._last_pass_call = end, self.audio_time
        # Whisper ends a window that cut a word with a full stop: two passes can agree on
        # "extreme." while "extremely" is still being said. So a last word that ends a
        # sentence waits while speech goes on past it (or to the window's end: Whisper may
        # stretch the fragment there). It binds only when the passes agree on the whole
        # hypothesis, so it costs little: p50 measured the same with and without it.
        voiced = self.timeline.to_speech(self.voiced_until)
        last = fresh[-1].text.rstrip() if fresh else ""
        speech_goes_on = bool(fresh) and voiced > min(fresh[-1].end, end - 2 * self.cut_margin) + self.cut_margin
        hold = speech_goes_on and last.endswith(SENTENCE_END + TRAILING) and self._still_held(fresh[-1], end)
        # "no..." or "re-" is a fragment: "no" must not agree with the "no" of a next pass
        # that has not heard "nobody" yet either. Nor a last word that reaches the window's
        # end: the window may have cut it ("what you" of "what your country", twice agreed).
        cut = bool(fresh) and fresh[-1].end >= end - self.cut_margin and fresh[-1].probability < self.sure
        fragment = speech_goes_on and (last.endswith(TRAILING) or cut)
        # A word Whisper is sure of and heard whole (not the last, ending before the window's
        # end) needs no second pass: it would agree (measured on the call: p50 -0.05 s, WER
        # the same; the synthetic call's +0.005). Nor does a likely one with heard_after
        # seconds of audio after it: on a slow host passes come a second apart (the call at
        # model:4: p50 1.50 -> 1.35 s). Nearer the end it may merge with a cut last word
        # ("what you are country" at 0.1 s, "what you your country" at 0.3 s).
        sure = 0
        while self.sure_alone and sure < len(fresh) - 1:
            w = fresh[sure]
            sure_whole = w.probability >= self.sure and w.end <= end - self.sure_margin
            likely_heard = w.probability >= self.likely and w.end <= end - self.heard_after
            if not (sure_whole or likely_heard):
                break
            sure += 1
        commit, self._guess = self._agreement.update(
            fresh, hold_last=hold, last_votes=not fragment, sure_prefix=sure)
        committed = self._commit(commit)
        if self._pending is not None and not any(w.start < self._pending.limit for w in self._guess):
            self._pending = None  # the passes that heard what follows have committed it
        self._trim()
        return PassResult("partial", committed, self._in_call_time(self._guess), seconds, rejected)

    def _still_held(self, word: DecodedWord, end: float) -> bool:
        """Hold a last word for ``hold_for`` seconds of new speech at most: a cut word has
        turned into the whole one by then, and a real "off." while the VAD still hears noise
        on the line would otherwise wait for the next words (measured: 7 s on the call)."""
        key = normalize(word.text)
        held = self._held
        if held is None or held[0] != key or abs(held[1] - word.start) >= 0.3:
            self._held = held = (key, word.start, end)
        return end - held[2] < self.hold_for

    def _overflow(self) -> PassResult:
        end = self.timeline.end
        fresh, rejected, seconds = self._decode(end)
        self._last_pass, self._last_pass_call = end, self.audio_time
        commit = [w for w in fresh if w.end <= end - self.overflow_keep]
        if not commit and len(fresh) > 1:
            commit = fresh[:-1]
        committed = self._commit(commit)
        self._agreement.reset()
        self._guess = fresh[len(commit) :]
        if not self._trim(force=True):
            self._move_anchor(max(self._anchor, end - self.overflow_keep))  # nothing heard: move on
        return PassResult("overflow", committed, self._in_call_time(self._guess), seconds, rejected)

    def _final(self, end: float, limit: float) -> PassResult:
        fresh, rejected, seconds = self._decode(end)
        # The VAD may end a turn before a soft last word ("off." 0.1 s after its end): keep
        # every word that starts inside the window.
        heard = [w for w in fresh if w.start < end - 0.05]
        # The VAD ends a turn after 0.25 s of silence, often a pause the speaker goes on
        # from, and the words Whisper is unsure of there are the ones what follows decides.
        # From the first one under `likely` on, they wait (see _HeldTail).
        unsure = len(heard)
        if self.final_wait > 0 and self.partial_passes:
            unsure = next((i for i, w in enumerate(heard) if w.probability < self.likely), unsure)
        committed = self._commit(heard[:unsure], limit=limit)
        self._guess = held = heard[unsure:]
        self._agreement.reset()
        self._trim()
        self._pending = None
        if held:
            at = self.timeline.to_call(limit)
            self._pending = _HeldTail(held, limit, at + self.final_wait, at + self.final_hold)
            self._agreement.history = [list(held)]  # this pass's words are one vote
            return PassResult("partial", committed, self._in_call_time(held), seconds, rejected)
        return PassResult("final", committed, [], seconds, rejected)

    def _let_go(self) -> PassResult:
        """A held tail's time is up: it commits as the latest pass heard it."""
        tail, self._pending = self._pending, None
        if not tail.resumed:
            committed = self._commit(tail.words, limit=tail.limit)
            self._agreement.reset()
            self._guess = []
            self._trim()
            return PassResult("final", committed, [], 0.0)
        k = sum(1 for w in self._guess if w.start < tail.limit)
        committed = self._commit(self._guess[:k])
        self._guess = self._guess[k:]
        self._agreement.history = [h[k:] for h in self._agreement.history]
        self._trim()
        return PassResult("partial", committed, self._in_call_time(self._guess), 0.0)

    def _trim(self, force: bool = False) -> bool:
        """Start the window later, in a pause after a committed word; True if it moved.

        The window keeps ``keep`` seconds of committed speech before the words still in play:
        that is the context the next words are heard in. A cut inside a word leaves a
        fragment that Whisper turns into a different guess on every pass, which stalls
        agreement: so cut in a gap of ``min_gap`` seconds between committed words, a
        sentence end first; once the window passes twice ``max_window`` (or on ``force``),
        in the widest gap there is.
        """
        end = self.timeline.end
        length = end - self._anchor
        if not force and length <= self.max_window:
            return False
        inside = [w for w in self.committed if w.start >= self._anchor]
        following = [*inside[1:], *self._guess[:1]]
        cuts = []  # (gap, sentence end, cut point)
        for i, w in enumerate(inside):
            nxt = following[i].start if i < len(following) else None
            gap, cut = (0.1, w.end + 0.05) if nxt is None else (nxt - w.end, (w.end + nxt) / 2)
            if cut > end - self.keep:
                break
            cuts.append((gap, w.text.rstrip().endswith(SENTENCE_END), cut))
        good = [c for c in cuts if c[0] >= self.min_gap]
        if good:
            best = max(good, key=lambda c: (c[1], c[2]))[2]
        elif cuts and (force or length > 2 * self.max_window):
            best = max(cuts)[2]
        else:
            return False
        if best <= self._anchor:
            return False
        self._move_anchor(best)
        return True

    def _move_anchor(self, to: float) -> None:
        self._anchor = to
        self.timeline.forget(to)
        # Words before the window only matter as the tail new windows may echo: a long
        # call must not grow the list every pass scans.
        inside = next((i for i, w in enumerate(self.committed) if w.start >= to), len(self.committed))
        del self.committed[: max(0, min(inside, len(self.committed) - self.TAIL))]


__all__ = ["ChannelTranscriber", "PassResult"]
