"""The window decoder's guards around one decode: what it does when Whisper stops early or
jumps over speech. The model is loaded for its tokenizer; the decode itself is scripted."""

from __future__ import annotations

import numpy as np
import pytest

from assist.model import load_model
from assist.transcription.base import DecodedWord, DecodeResult
from assist.transcription.decoder import WindowDecoder, cut_stretched

SR = 16_000


def W(text: str, start: float, end: float, p: float = 0.9) -> DecodedWord:
    return DecodedWord(" " + text, start, end, p)


@pytest.fixture(scope="module")
def model():
    return load_model()


def scripted(model, *results):
    """A decoder whose passes return ``results`` in turn; it records each pass's seconds."""
    decoder = WindowDecoder(model)
    seconds = []

    def once(audio, max_tokens):
        seconds.append(len(audio) / SR)
        return results[len(seconds) - 1]

    decoder._decode_once = once
    return decoder, seconds


def test_cut_stretched_ends_the_words_at_one_no_word_lasts():
    words = [W("don't", 4.0, 4.4), W("know.", 4.4, 5.1), W("Yeah.", 5.6, 21.1), W("so", 21.1, 21.2)]
    assert cut_stretched(words, 2.0) == [*words[:2], W("Yeah.", 5.6, 6.1)]
    assert cut_stretched(words[:2], 2.0) is None


def test_speech_jumped_over_is_decoded_again(model):
    # Measured on the phone call's caller: "Yeah." aligned over 15 s that held two sentences.
    first = DecodeResult((W("know.", 4.4, 5.1), W("Yeah.", 5.6, 21.0)), tokens=6)
    rest = DecodeResult((W("Yeah,", 0.45, 0.8), W("yeah,", 0.8, 1.1), W("like", 1.2, 1.5)), tokens=5)
    decoder, seconds = scripted(model, (first, True), (rest, True))
    result = decoder.decode(np.zeros(int(21.1 * SR), np.float32))
    # The rest is heard from 1 s before the cut word's end (6.1 s): "Yeah" once, then on.
    assert seconds == [pytest.approx(21.1), pytest.approx(21.1 - 5.1, abs=1e-3)]
    assert [w.text.strip() for w in result.words] == ["know.", "Yeah.", "yeah,", "like"]
    assert result.words[-1].start == pytest.approx(5.1 + 1.2)
    assert result.tokens == 11


def test_an_early_end_of_text_is_decoded_on_from_the_last_word(model):
    first = DecodeResult((W("a", 0.0, 0.3), W("line", 0.3, 0.7), W("within", 0.7, 1.2)), tokens=5)
    rest = DecodeResult((W("within", 0.5, 1.0), W("busy", 1.1, 1.5)), tokens=4)  # from 0.2 s
    decoder, seconds = scripted(model, (first, True), (rest, True))
    result = decoder.decode(np.zeros(4 * SR, np.float32))
    assert seconds == [pytest.approx(4.0), pytest.approx(4.0 - 0.2, abs=1e-3)]
    assert [w.text.strip() for w in result.words] == ["a", "line", "within", "busy"]


def test_a_window_heard_to_its_end_is_decoded_once(model):
    heard = DecodeResult((W("a", 0.0, 0.3), W("line", 0.3, 0.7), W("ends", 3.4, 3.8)), tokens=4)
    decoder, seconds = scripted(model, (heard, True))
    assert decoder.decode(np.zeros(4 * SR, np.float32)) == heard
    cut = DecodeResult((W("a", 0.0, 0.3), W("line", 0.3, 0.7)), tokens=4)
    decoder, seconds = scripted(model, (cut, False))  # the token budget ended it: no resume
    assert decoder.decode(np.zeros(4 * SR, np.float32)) == cut and len(seconds) == 1


def test_decodes_on_two_threads_encode_one_at_a_time(model):
    """The fast clock's lanes share one decoder: two encodes at once would hold two sets of
    encoder buffers, the peak of the run's memory."""
    import threading
    import time

    decoder = WindowDecoder(model)
    real = decoder.ct2
    active, most = [0], [0]
    lock = threading.Lock()

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def encode(self, features):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(0.05)  # long enough for the other thread to arrive
            try:
                return real.encode(features)
            finally:
                with lock:
                    active[0] -= 1

    decoder.ct2 = Counting()
    audio = (0.01 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32)
    threads = [threading.Thread(target=decoder.decode, args=(audio,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert decoder.profile["calls"] == 4  # every thread decoded
    assert most[0] == 1
