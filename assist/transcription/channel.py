"""One speaker's streaming transcriber: a VAD-gated utterance buffer, a decoder, a policy.

The pipeline feeds every sample of the channel (:meth:`ChannelTranscriber.feed`) and the
VAD's turn boundaries (:meth:`speech_start`, :meth:`speech_end`), asks when the next pass is
due (:meth:`due`), and runs passes (:meth:`run_pass`) one at a time. Nothing here knows the
clock or threads; the decoder is anything with ``decode(audio, prompt)``.

Policy:
- While a turn is open, a *partial pass* decodes the window (turn start − pre-roll … now)
  every ``interval`` seconds of new audio; LocalAgreement-n commits the prefix the last n
  passes agree on, the rest is the partial. A last word that ends a sentence ("extreme.") is
  held back while the VAD hears speech going on past it (``cut_margin``): the window may
  have cut it in two.
- At the turn's end a *final pass* decodes the window up to the VAD end and commits the rest;
  word ends are clamped to the VAD end (Whisper stretches the last word into the silence).
- Long turns: once the window exceeds ``trim_after`` seconds, it is cut at a gap between
  committed words, and the committed text is passed as the prompt. A window that still
  reaches ``max_window`` (no agreement, or ``partial_passes=False``) gets an *overflow pass*
  that commits the words ending ``overflow_keep`` seconds before its end.
- No interim pass while nothing new was voiced since the last one (``voiced_until``, from
  the VAD): a pause before the VAD closes the turn would only repeat the last pass.

Options measured on the first minute of the real phone call and not on by default:
``force_prefix`` (force the committed words inside the window as the decoder prefix) and
``context`` (open a turn's window over the speaker's words of the last seconds) both cut
latency a little but raised WER against the offline transcript (a forced early mistake
carries on); ``prompt_scope="call"`` (previous turns' text as the prompt) raised the
customer channel's WER from 0.32 to 0.60 (Whisper echoes the prompt into short windows).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from assist.events import Speaker
from assist.transcription.agreement import LocalAgreement, new_words, normalize
from assist.transcription.base import DecodedWord, Decoder

SAMPLE_RATE = 16_000
TRAILING = ("...", "…", "-", "—")  # how Whisper ends a word it heard only part of
SENTENCE_END = (".", "?", "!")


@dataclass
class PassResult:
    """What one pass produced; the pipeline stamps it with call time."""

    kind: str  # "partial" | "final" | "overflow"
    committed: list[DecodedWord]
    partial: list[DecodedWord]
    window: float = 0.0  # seconds of audio decoded
    rejected: str = ""


@dataclass
class _Turn:
    start: float  # call time of the window's first sample
    opened: float = 0.0  # call time the turn began (the window start before any trim)
    end: float | None = None  # VAD end once the turn is over
    last_pass: float = -1.0  # window end of the last pass (call time)
    last_tokens: int = -1  # text tokens the last pass kept (its budget hint)
    last_start: float = 0.0  # window start of the last pass
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    partial: list[DecodedWord] = field(default_factory=list)


class ChannelTranscriber:
    def __init__(
        self,
        speaker: Speaker,
        decoder: Decoder,
        *,
        interval: float = 0.25,
        first_pass: float = 0.4,
        preroll: float = 0.2,
        tail: float = 0.1,
        trim_after: float = 3.0,
        max_window: float = 20.0,
        overflow_keep: float = 2.0,
        agreement: int = 2,
        min_commit_probability: float = 0.1,
        min_gap: float = 0.15,
        partial_passes: bool = True,
        prompt_words: int = 40,
        prompt_scope: str = "turn",
        force_prefix: bool = False,
        context: float = 0.0,
        merge_gap: float | None = None,
        token_rate: float = 5.0,
        token_slack: int = 6,
        cut_margin: float = 0.1,
    ) -> None:
        self.speaker = speaker
        self.decoder = decoder
        self.interval = interval
        self.first_pass = first_pass
        self.preroll = preroll
        self.tail = tail
        self.trim_after = trim_after
        self.max_window = max_window
        self.overflow_keep = overflow_keep
        self.agreement_n = agreement
        self.partial_passes = partial_passes
        self.prompt_words = prompt_words
        self.prompt_scope = prompt_scope  # "turn": context from this turn only; "call": any
        self.min_commit_probability = min_commit_probability
        self.min_gap = min_gap
        self.force_prefix = force_prefix
        self.context = context
        # Without interim passes (the fast clock), turns closer than `merge_gap` seconds
        # share one window and one final pass: fewer, longer decodes go faster.
        self.merge_gap = merge_gap if merge_gap is not None else (0.0 if partial_passes else 3.0)
        self._held: _Turn | None = None  # an ended turn waiting to see if speech resumes
        self.voiced_until = 0.0  # end of the last voiced VAD frame (set by the pipeline)
        self.token_rate = token_rate
        self.token_slack = token_slack
        self.cut_margin = cut_margin
        self.committed: list[DecodedWord] = []  # every word committed on this channel
        self._chunks: deque[np.ndarray] = deque()
        self._audio_start = 0  # sample index of the first kept sample
        self._audio_end = 0  # samples fed so far
        self._turn: _Turn | None = None  # the open turn
        self._finals: deque[_Turn] = deque()  # ended turns awaiting their final pass
        self.passes = 0

    # -- audio ------------------------------------------------------------------------------
    @property
    def audio_time(self) -> float:
        return self._audio_end / SAMPLE_RATE

    def feed(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(samples):
            self._chunks.append(samples)
            self._audio_end += len(samples)
        self._forget()

    def _forget(self) -> None:
        """Drop audio no pass can need any more (keep the pre-roll)."""
        keep_from = self._audio_end - int((max(self.preroll, self.context) + 0.2) * SAMPLE_RATE)
        for turn in (*self._finals, self._turn, self._held):
            if turn is not None:
                keep_from = min(keep_from, int(turn.start * SAMPLE_RATE))
        while self._chunks and self._audio_start + len(self._chunks[0]) <= keep_from:
            self._audio_start += len(self._chunks.popleft())

    def _slice(self, t0: float, t1: float) -> np.ndarray:
        a, b = max(int(round(t0 * SAMPLE_RATE)), self._audio_start), int(round(t1 * SAMPLE_RATE))
        b = min(b, self._audio_end)
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        if len(self._chunks) > 1:
            joined = np.concatenate(list(self._chunks))
            self._chunks.clear()
            self._chunks.append(joined)
        whole = self._chunks[0]
        return whole[a - self._audio_start : b - self._audio_start]

    # -- turns ------------------------------------------------------------------------------
    def speech_start(self, time: float) -> None:
        """A turn begins at ``time``: open its window.

        With ``context`` > 0 the window reaches back over this speaker's words committed in
        the last ``context`` seconds (at a word start): Whisper hears a short turn far
        better with what came just before it, and those words, forced as the prefix, cost
        little and cannot change.
        """
        if self._turn is not None:  # should not happen: close it first
            self.speech_end(time)
        if self._held is not None:
            if time - (self._held.end or 0.0) < self.merge_gap:
                self._turn, self._held = self._held, None  # the same window goes on
                self._turn.end = None
                return
            self._release_held(force=True)
        start = max(time - self.preroll, self._audio_start / SAMPLE_RATE, 0.0)
        for turn in self._finals:
            start = max(start, (turn.end or 0.0) + self.tail)
        opened = start
        if self.context > 0 and not self._finals:
            recent = [w for w in self.committed if w.start >= time - self.context]
            if recent and recent[0].start - 0.05 >= self._audio_start / SAMPLE_RATE:
                start = recent[0].start - 0.05
        elif self.committed:
            start = max(start, min(self.committed[-1].end, time))
        self._turn = _Turn(start=start, opened=opened,
                           agreement=LocalAgreement(self.agreement_n, self.min_commit_probability))

    def speech_end(self, time: float) -> None:
        if self._turn is None:
            return
        self._turn.end = time
        if self.merge_gap > 0:
            self._held, self._turn = self._turn, None
            return
        self._finals.append(self._turn)
        self._turn = None

    def _release_held(self, force: bool = False) -> None:
        held = self._held
        if held is None:
            return
        if force or self.audio_time - (held.end or 0.0) >= self.merge_gap or \
                (held.end or 0.0) - held.start >= self.max_window - self.merge_gap:
            self._finals.append(held)
            self._held = None

    def finish(self) -> None:
        """End of stream: every turn gets its final pass."""
        if self._turn is not None:
            self.speech_end(self.audio_time)
        self._release_held(force=True)

    @property
    def speaking(self) -> bool:
        return self._turn is not None

    @property
    def busy(self) -> bool:
        """A turn open or awaiting its final pass."""
        return self._turn is not None or self._held is not None or bool(self._finals)

    # -- scheduling -------------------------------------------------------------------------
    def due(self) -> tuple[int, float] | None:
        """``(priority, since)`` when a pass can run now (lower sorts first), else None.

        Final passes first (oldest turn first), then overflow, then partial passes, the
        one that has waited longest first.
        """
        now = self.audio_time
        self._release_held()
        if self._finals:
            # The VAD reports an end min_silence (> tail) after it: the audio is in.
            return (0, self._finals[0].end or 0.0)
        turn = self._turn
        if turn is None:
            return None
        if now - turn.start >= self.max_window:
            return (1, turn.start)
        if not self.partial_passes:
            return None
        if now - turn.start < self.first_pass + self.preroll:
            return None
        if turn.last_pass >= 0 and now - turn.last_pass < self.interval:
            return None
        if turn.last_pass >= 0 and self.voiced_until <= turn.last_pass:
            return None  # nothing voiced since the last pass: it would say the same
        return (2, max(turn.last_pass, turn.start))

    def run_pass(self) -> PassResult | None:
        """Run the most urgent pass; None when none is due."""
        due = self.due()
        if due is None:
            return None
        self.passes += 1
        if due[0] == 0:
            return self._final(self._finals.popleft())
        assert self._turn is not None
        if due[0] == 1:
            return self._overflow(self._turn)
        return self._partial(self._turn)

    # -- passes -----------------------------------------------------------------------------
    def _prompt(self, turn: _Turn) -> str:
        """Committed text before the window: this turn's (after a trim), or the call's.

        Across turns a prompt makes Whisper echo the previous sentence into a short window
        (measured on jfk.flac), hence the default ``prompt_scope="turn"``.
        """
        if self.prompt_words <= 0:
            return ""
        if self.prompt_scope == "turn" and turn.start <= turn.opened:
            return ""  # untrimmed: this turn's words are all still in the window's audio
        since = turn.opened if self.prompt_scope == "turn" else 0.0
        words = [
            w.text
            for w in self.committed[-self.prompt_words :]
            if w.end <= turn.start + 0.05 and w.start >= since - 0.05
        ]
        return "".join(words).strip()

    def _decode(self, turn: _Turn, end: float, final: bool = False) -> tuple[list[DecodedWord], str, float]:
        audio = self._slice(turn.start, end)
        seconds = len(audio) / SAMPLE_RATE
        budget = None
        if not final and turn.last_tokens >= 0 and turn.start == turn.last_start:
            grown = max(0.0, end - turn.last_pass)
            budget = turn.last_tokens + int(self.token_rate * grown + 0.999) + self.token_slack
        settled = [w for w in self.committed if w.start >= turn.start - 0.02] if self.force_prefix else []
        prefix = "".join(w.text for w in settled)
        result = self.decoder.decode(audio, self._prompt(turn), max_tokens=budget, prefix=prefix)
        turn.last_tokens, turn.last_start = result.tokens, turn.start
        words = [w.shifted(turn.start) for w in result.words]
        if settled and result.prefix_words:
            return words[result.prefix_words :], result.rejected, seconds
        if turn.start > turn.opened and words and words[0].start < turn.start + 0.15 and words[0].probability < 0.3:
            words = words[1:]  # the tail of the word before the cut, misheard
        return new_words(words, self.committed), result.rejected, seconds

    def _commit(self, words: list[DecodedWord], limit: float | None = None) -> list[DecodedWord]:
        """Append to the channel's committed words, keeping times in order."""
        out = []
        for w in words:
            if not normalize(w.text):
                continue
            prev_end = self.committed[-1].end if self.committed else 0.0
            start = max(w.start, prev_end)
            end = max(w.end, start)
            if limit is not None:
                if start >= limit and out:
                    break
                start = min(start, limit)
                end = min(end, limit)
            word = DecodedWord(w.text, round(start, 3), round(end, 3), w.probability)
            self.committed.append(word)
            out.append(word)
        return out

    def _partial(self, turn: _Turn) -> PassResult:
        now = self.audio_time
        fresh, rejected, seconds = self._decode(turn, now)
        turn.last_pass = now
        # Whisper ends a window that cut a word with a full stop: two passes can agree on
        # "extreme." while "extremely" is still being said. So a last word that ends a
        # sentence waits while speech goes on past it (or to the window's end: Whisper may
        # stretch the fragment there). It binds only when the passes agree on the whole
        # hypothesis, so it costs little: p50 measured the same with and without it.
        last = fresh[-1].text.rstrip() if fresh else ""
        speech_goes_on = bool(fresh) and self.voiced_until > min(fresh[-1].end, now - 2 * self.cut_margin) + self.cut_margin
        hold = speech_goes_on and last.endswith(SENTENCE_END + TRAILING)
        # "no..." or "re-" is a fragment: "no" must not agree with the "no" of a next pass
        # that has not heard "nobody" yet either.
        fragment = speech_goes_on and last.endswith(TRAILING)
        commit, partial = turn.agreement.update(fresh, hold_last=hold, last_votes=not fragment)
        committed = self._commit(commit)
        turn.partial = partial
        self._trim(turn)
        return PassResult("partial", committed, partial, seconds, rejected)

    def _overflow(self, turn: _Turn) -> PassResult:
        now = self.audio_time
        fresh, rejected, seconds = self._decode(turn, now)
        turn.last_pass = now
        cut = now - self.overflow_keep
        commit = [w for w in fresh if w.end <= cut]
        if not commit and fresh and len(fresh) > 1:
            commit = fresh[:-1]
        committed = self._commit(commit)
        turn.agreement.reset()
        turn.partial = fresh[len(commit) :]
        if not self._trim(turn, force=True):
            turn.start = max(turn.start, now - self.overflow_keep)  # nothing heard: move on
        return PassResult("overflow", committed, turn.partial, seconds, rejected)

    def _final(self, turn: _Turn) -> PassResult:
        assert turn.end is not None
        fresh, rejected, seconds = self._decode(turn, turn.end + self.tail, final=True)
        committed = self._commit([w for w in fresh if w.start < turn.end], limit=turn.end)
        self._forget()
        return PassResult("final", committed, [], seconds, rejected)

    def _trim(self, turn: _Turn, force: bool = False) -> bool:
        """Start the window later, in a pause after a committed word; True if it moved.

        A cut inside a word leaves a fragment that Whisper turns into a different guess on
        every pass, which stalls agreement: so cut only in a gap of ``min_gap`` seconds
        between committed words, or, once the window passes twice ``trim_after`` (or on
        ``force``), in the widest gap there is.
        """
        now = self.audio_time
        length = now - turn.start
        if not force and length <= self.trim_after:
            return False
        inside = [w for w in self.committed if w.start >= turn.start]
        if not inside:
            return False
        following = inside[1:] + turn.partial[:1]
        gaps = []  # (gap, cut point)
        for i, w in enumerate(inside):
            nxt = following[i].start if i < len(following) else None
            if nxt is None:
                if turn.partial:
                    break
                gap, cut = 0.1, w.end + 0.05  # nothing heard after it yet
            else:
                gap, cut = nxt - w.end, (w.end + nxt) / 2
            if cut > now - 1.0:
                break
            gaps.append((gap, cut))
        if not gaps:
            return False
        good = [c for g, c in gaps if g >= self.min_gap]
        if good:
            best = good[-1]
        elif force or length > 2 * self.trim_after:
            best = max(gaps)[1]
        else:
            return False
        if best <= turn.start:
            return False
        turn.start = best
        self._forget()
        return True


__all__ = ["ChannelTranscriber", "PassResult"]
