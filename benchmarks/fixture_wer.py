#!/usr/bin/env python3
"""How well tiny.en hears the call fixtures: word error rate per call and per speaker.

    python benchmarks/fixture_wer.py [audio_fixtures/03_concession.json ...]

Each channel is transcribed offline (bundled tiny.en, beam 1, VAD on, word timestamps);
each scripted utterance is compared with the words whose middle falls inside it (±0.3 s).
Utterances with errors are listed, so a trainer can reword what the model mangles
(``audio_fixtures/README.md``). Baseline: DESIGN.md measured 0.03–0.07 for these voices on a
153-word read script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import normalize_words, wer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures", nargs="*", type=Path, default=[ROOT / "audio_fixtures"])
    args = parser.parse_args()
    from faster_whisper import decode_audio

    from assist.evaluation import find_fixtures
    from assist.model import load_model

    model = load_model()
    print(f"{'fixture':<18} {'speaker':<9} {'words':>5} {'WER':>6}")
    for fx in find_fixtures(args.fixtures):
        audio = decode_audio(str(fx.audio), sampling_rate=16000, split_stereo=True)
        for channel, speaker in enumerate(("rep", "customer")):
            segments, _ = model.transcribe(audio[channel], beam_size=1, word_timestamps=True,
                                           vad_filter=True, language="en")
            words = [w for s in segments for w in s.words]
            errors = total = 0
            for u in (u for u in fx.utterances if u.speaker == speaker):
                heard = [w.word for w in words if u.start - 0.3 <= (w.start + w.end) / 2 <= u.end + 0.3]
                ref = normalize_words(u.text)
                e = round(wer(ref, heard) * len(ref))
                errors, total = errors + e, total + len(ref)
                if e:
                    print(f"    {u.id}: {' '.join(normalize_words(heard))!r}")
            print(f"{fx.name:<18} {speaker:<9} {total:>5} {errors / max(total, 1):>6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
