"""Decode a short window of audio with Whisper (CTranslate2), fast enough to run every 0.25 s.

``WhisperModel.transcribe()`` pads every window to 30 s, so a pass costs ~0.5 s whatever the
audio length. The CTranslate2 encoder accepts shorter mel inputs, so :class:`WindowDecoder`
encodes the window plus 3 s of zero padding (rounded up to a 0.5 s size), decodes greedily
*with* timestamp tokens but none past the real audio (so a short window ends instead of
repeating itself), cuts the token stream where it leaves the real audio or loops anyway, and gets word times from the model's cross-attention alignment — the same
pieces faster-whisper uses (feature extractor, tokenizer, ``model.generate``/``model.align``),
without its 30 s windowing.

:class:`TranscribeDecoder` wraps faster-whisper's own ``transcribe()``: the naive baseline of
the benchmark.
"""

from __future__ import annotations

import math
import threading
import time
import zlib
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from assist.transcription.base import DecodedWord, DecodeResult

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
HOP = 160  # samples per mel frame
FRAMES_PER_SECOND = SAMPLE_RATE // HOP  # 100
TOKENS_PER_SECOND = 50  # encoder positions per second (alignment time unit)
TIME_PRECISION = 0.02  # seconds per timestamp token
MAX_SECONDS = 29.0  # the encoder's positional embedding covers 30 s
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def cut_loop(tokens: list[int], min_repeats: int = 3, max_n: int = 12) -> list[int]:
    """Cut a token run at the start of its first loop: an n-gram repeated back to back.

    Keeps one occurrence: ``a b c c c c`` → ``a b c``; ``x y x y x y z`` → ``x y``. A unigram
    must repeat ``min_repeats + 1`` times ("no, no, no" is speech), longer n-grams
    ``min_repeats`` times.
    """
    n_tokens = len(tokens)
    for i in range(n_tokens):
        for n in range(1, max_n + 1):
            need = min_repeats + 1 if n == 1 else min_repeats
            if i + n * need > n_tokens:
                break
            gram = tokens[i : i + n]
            if all(tokens[i + k * n : i + (k + 1) * n] == gram for k in range(1, need)):
                return tokens[: i + n]
    return tokens


def join_word_pieces(alignment: list[dict]) -> list[dict]:
    """Join each piece with no leading space to the word before it.

    A word begins with a space in Whisper's text; the tokenizer also splits at punctuation,
    so " re-organization" can come out as " re" and "-organ…", and the policy would then
    commit " re" as a word of its own.
    """
    out: list[dict] = []
    for a in alignment:
        if out and not a["word"].startswith(" "):
            prev = out[-1]
            out[-1] = dict(prev, word=prev["word"] + a["word"], tokens=prev["tokens"] + a["tokens"],
                           end=a["end"], probability=min(prev["probability"], a["probability"]))
        else:
            out.append(a)
    return out


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'")


def cut_echo(words: list[DecodedWord], seconds: float, min_n: int = 2) -> list[DecodedWord]:
    """Drop a tail that repeats earlier words and is squeezed into the window's end.

    Whisper on a short window often says its text twice; the alignment then crowds the
    second copy into the last moments of the audio (words of ~0 s). A genuine repeat
    ("can do for you, ask what you can do for...") has normal durations and stays.
    Also drops a trailing run of two or more words that all last under 40 ms.
    """
    norm = [_norm(w.text) for w in words]
    for j in range(1, len(words)):
        for i in range(j):
            n = 0
            while j + n < len(words) and i + n < j and norm[i + n] == norm[j + n] and norm[j + n]:
                n += 1
            if n >= min_n or (n >= 1 and j + n == len(words)):
                tail = words[j:]
                mean = sum(w.end - w.start for w in tail) / len(tail)
                if mean < 0.1 or tail[0].start >= seconds - 0.3:
                    return words[:j]
    k = len(words)
    while k > 0 and words[k - 1].end - words[k - 1].start < 0.04:
        k -= 1
    if len(words) - k >= 2:
        return words[:k]
    return words


def cut_stretched(words: list[DecodedWord], longest: float, keep: float = 0.5) -> list[DecodedWord] | None:
    """The words up to the first one aligned over more than ``longest`` seconds, that one
    cut to ``keep`` seconds; None when there is none.

    Whisper sometimes closes a segment with a timestamp far past its last word and goes
    on from there: on the phone call, "Yeah." aligned from 5.6 s to 21.1 s of a window
    whose 15 s in between held the caller's next sentences. No word lasts that long; what
    follows it was not heard.
    """
    for i, w in enumerate(words):
        if w.end - w.start > longest:
            return [*words[:i], DecodedWord(w.text, w.start, round(w.start + keep, 3), w.probability)]
    return None


class WindowDecoder:
    """Short-window Whisper decode: see the module docstring.

    Guards against text that is not in the audio: a window whose no-speech probability is
    high while the decode is unsure (Whisper's own rule), a decode that compresses too well
    (loops), segments that start after the real audio or repeat an earlier segment, and
    words aligned past the end of the real audio.
    """

    def __init__(
        self,
        model: WhisperModel,
        *,
        pad: float = 3.0,
        bucket: float = 0.5,
        no_speech_threshold: float = 0.6,
        logprob_threshold: float = -1.0,
        compression_threshold: float = 2.4,
        min_word_probability: float = 0.0,
        tokens_per_second: float = 6.0,
        resume_after: float = 0.5,
        resume_overlap: float = 1.0,
        longest_word: float = 2.0,
    ) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.ct2 = model.model
        self.tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language="en" if model.model.is_multilingual else None,
        )
        self.features = model.feature_extractor
        self.pad = pad
        self.bucket = bucket
        self.no_speech_threshold = no_speech_threshold
        self.logprob_threshold = logprob_threshold
        self.compression_threshold = compression_threshold
        self.min_word_probability = min_word_probability
        self.tokens_per_second = tokens_per_second
        self.resume_after = resume_after
        self.resume_overlap = resume_overlap
        self.longest_word = longest_word
        tok = self.tokenizer
        self._suppress = self._suppressed_tokens()
        self._sot = list(tok.sot_sequence)
        self._eot = tok.eot
        self._ts_begin = tok.timestamp_begin
        # The fast clock's lanes share this decoder. Their encodes take turns: two 30 s
        # encodes at once hold two sets of attention buffers (54 MB a layer each), and the
        # phone call peaked at 402-436 MB against 323-400 MB with them in turn, no slower.
        self._encoding = threading.Lock()
        # CPU seconds spent per stage, and counts (benchmarks read this)
        self.profile: dict[str, float] = dict.fromkeys(
            ("features", "encode", "generate", "align", "calls", "tokens", "seconds", "resumed"), 0.0)

    def _suppressed_tokens(self) -> list[int]:
        tok = self.tokenizer
        ids = set(tok.non_speech_tokens)
        ids.update((tok.transcribe, tok.translate, tok.sot, tok.sot_prev, tok.sot_lm, tok.no_speech))
        return sorted(i for i in ids if i is not None)

    # -- the pieces -------------------------------------------------------------------------
    def _encode(self, audio: np.ndarray):
        import ctranslate2

        seconds = len(audio) / SAMPLE_RATE + self.pad
        seconds = min(math.ceil(seconds / self.bucket) * self.bucket, 30.0)
        total = int(seconds * SAMPLE_RATE)
        padded = np.zeros(total, dtype=np.float32)
        padded[: len(audio)] = audio[:total]
        t0 = time.process_time()
        mel = self.features(padded, padding=0)[:, : int(seconds * FRAMES_PER_SECOND)]
        mel = np.ascontiguousarray(mel[None], dtype=np.float32)
        t1 = time.process_time()
        with self._encoding:
            encoded = self.ct2.encode(ctranslate2.StorageView.from_array(mel))
        self.profile["features"] += t1 - t0
        self.profile["encode"] += time.process_time() - t1
        return encoded, seconds

    def _segments(self, tokens: list[int], audio_seconds: float) -> tuple[list[int], int]:
        """Text tokens of the segments worth keeping (see the class docstring), and how
        many segments they are."""
        ts = self._ts_begin
        kept: list[int] = []
        seen: set[tuple[int, ...]] = set()
        segment: list[int] = []
        start: float | None = None
        limit = audio_seconds - 0.1
        count = 0

        def close() -> bool:
            """Add the open segment; False when decoding should stop here."""
            nonlocal segment, count
            text = tuple(cut_loop(segment))
            truncated = len(text) < len(segment)
            segment = []
            if not text:
                return True
            if text in seen:
                return False
            seen.add(text)
            kept.extend(text)
            count += 1
            return not truncated

        for token in tokens:
            if token == self._eot:
                break
            if token >= ts:
                time = (token - ts) * TIME_PRECISION
                if segment:
                    if not close():
                        return kept, count
                    start = None
                elif start is None or time >= start:
                    start = time
                if start is not None and start >= limit and not segment:
                    # A segment that would start past the real audio: the rest is invented.
                    if kept or time >= limit:
                        return kept, count
                continue
            segment.append(token)
        if segment:
            close()
        return kept, count

    def _align(self, encoded, text_tokens: list[int], num_frames: int) -> list[dict]:
        from faster_whisper.transcribe import merge_punctuations

        result = self.ct2.align(encoded, self._sot, [text_tokens], num_frames)[0]
        words, word_tokens = self.tokenizer.split_to_word_tokens(text_tokens + [self._eot])
        if len(word_tokens) <= 1:
            return []
        boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        text_idx = np.array([p[0] for p in result.alignments])
        time_idx = np.array([p[1] for p in result.alignments])
        if len(text_idx) == 0:
            return []
        jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
        jump_times = time_idx[jumps] / TOKENS_PER_SECOND
        if len(jump_times) < len(boundaries):
            return []
        probs = result.text_token_probs
        alignment = [
            dict(
                word=word,
                tokens=toks,
                start=float(jump_times[i]),
                end=float(jump_times[j]),
                probability=float(np.mean(probs[i:j])) if j > i else 0.0,
            )
            for word, toks, i, j in zip(words, word_tokens, boundaries[:-1], boundaries[1:])
        ]
        merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
        return join_word_pieces([a for a in alignment if a["word"]])

    # -- the interface ----------------------------------------------------------------------
    def decode(self, audio: np.ndarray, max_tokens: int | None = None) -> DecodeResult:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if len(audio) > MAX_SECONDS * SAMPLE_RATE:
            raise ValueError(f"window of {len(audio) / SAMPLE_RATE:.1f} s exceeds {MAX_SECONDS} s")
        seconds = len(audio) / SAMPLE_RATE
        result, ended = self._decode_once(audio, max_tokens)
        words = list(result.words)
        heard = cut_stretched(words, self.longest_word)
        if heard is not None:
            words, ended = heard, True
        if not ended or not words or seconds - words[-1].end < self.resume_after:
            return result if heard is None else replace(result, words=tuple(words))
        # Whisper sometimes closes its last segment and ends with seconds of speech still to
        # come ("...a line within" and nothing of the 2.8 s after it), or jumps over them (see
        # cut_stretched): a window that never hears those words stalls agreement until the
        # turn ends. Decode the rest, from a little before, as the next window of
        # transcribe() would.
        last = words[-1]
        start = max(last.end - self.resume_overlap, 0.0)
        first = int(start * SAMPLE_RATE)
        rest, _ = self._decode_once(audio[first:], None)
        if heard is None:
            more = [w.shifted(start) for w in rest.words if w.start + start >= last.end - 0.05]
            if more and _norm(more[0].text) == _norm(last.text):
                more = more[1:]  # the last word heard again
        else:  # the cut word's end is a guess: go by its start ("Yeah. yeah," is speech)
            more = [w.shifted(start) for w in rest.words if w.start + start >= last.start + 0.2]
        self.profile["resumed"] += 1
        return DecodeResult(tuple(words + more), no_speech_prob=result.no_speech_prob,
                            avg_logprob=result.avg_logprob, tokens=result.tokens + rest.tokens)

    def _decode_once(self, audio: np.ndarray, max_tokens: int | None) -> tuple[DecodeResult, bool]:
        """One window; also whether the model ended it (rather than the token budget)."""
        seconds = len(audio) / SAMPLE_RATE
        if seconds < 0.1:
            return DecodeResult(rejected="too short"), False
        encoded, _ = self._encode(audio)
        prompt_tokens = self._sot
        # Short windows tend to repeat their first segment; a budget stops that early.
        budget = int(self.tokens_per_second * seconds) + 12
        if max_tokens is not None:
            budget = max(4, min(budget, max_tokens + 1))  # + the end token
        t0 = time.process_time()
        # No timestamp past the real audio: with nowhere to put a second segment, a short
        # window ends instead of starting over (measured on jfk.flac windows, with 3 s of
        # padding: no repeats, and ~20 % less compute than 1 s of padding without this).
        last_ts = self._ts_begin + int(math.ceil((seconds + TIME_PRECISION) / TIME_PRECISION))
        suppress = self._suppress + list(range(last_ts + 1, self._ts_begin + 1501))
        result = self.ct2.generate(
            encoded,
            [prompt_tokens],
            beam_size=1,
            # Measured (CTranslate2 4.x, Whisper): greedy generation stops after about
            # (prompt + max_length) / 2 new tokens, so twice the budget buys the budget.
            max_length=min(len(prompt_tokens) + 2 * budget, 448),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=suppress,
            max_initial_timestamp_index=50,
        )[0]
        tokens = list(result.sequences_ids[0])
        ended = len(tokens) < budget
        self.profile["generate"] += time.process_time() - t0
        self.profile["calls"] += 1
        self.profile["tokens"] += len(tokens)
        self.profile["seconds"] += seconds
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        nsp = float(result.no_speech_prob)
        if nsp > self.no_speech_threshold and avg_logprob < self.logprob_threshold:
            return DecodeResult(no_speech_prob=nsp, avg_logprob=avg_logprob, rejected="no speech"), False
        text_tokens, segments = self._segments(tokens, seconds)
        if not text_tokens:
            return DecodeResult(no_speech_prob=nsp, avg_logprob=avg_logprob, rejected="empty"), False
        text = self.tokenizer.decode(text_tokens).strip()
        if compression_ratio(text) > self.compression_threshold:
            return DecodeResult(no_speech_prob=nsp, avg_logprob=avg_logprob, rejected="repetitive"), False
        num_frames = int(round(seconds * FRAMES_PER_SECOND))
        words = []
        t0 = time.process_time()
        alignment = self._align(encoded, text_tokens, num_frames)
        self.profile["align"] += time.process_time() - t0
        for a in alignment:
            start = min(a["start"], seconds)
            end = min(max(a["end"], start), seconds)
            if start >= seconds - 0.05 and words:
                break  # aligned past the real audio: not heard
            if a["probability"] < self.min_word_probability:
                continue
            words.append(DecodedWord(a["word"], round(start, 3), round(end, 3), a["probability"]))
        heard = cut_echo(words, seconds)
        # What the kept words cost to generate, their segments' two timestamps each included.
        spent = (len(text_tokens) + 2 * segments) * len(heard) / len(words) if words else 0
        result = DecodeResult(tuple(heard), no_speech_prob=nsp, avg_logprob=avg_logprob, tokens=round(spent))
        return result, ended


class TranscribeDecoder:
    """faster-whisper's ``transcribe()`` on the whole window (30 s padded): the baseline."""

    def __init__(self, model: WhisperModel, *, beam_size: int = 1) -> None:
        self.model = model
        self.beam_size = beam_size

    def decode(self, audio: np.ndarray, max_tokens: int | None = None) -> DecodeResult:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if len(audio) < 0.1 * SAMPLE_RATE:
            return DecodeResult(rejected="too short")
        segments, _ = self.model.transcribe(
            audio,
            language="en",
            beam_size=self.beam_size,
            temperature=0.0,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        words = []
        for seg in segments:
            for w in seg.words or ():
                words.append(DecodedWord(w.word, w.start, w.end, w.probability))
        return DecodeResult(tuple(words))


__all__ = ["TranscribeDecoder", "WindowDecoder", "compression_ratio", "cut_echo", "cut_loop"]
