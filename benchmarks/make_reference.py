#!/usr/bin/env python3
"""Write a machine reference transcript of a call, per channel, with a stronger model.

The real phone call in ``../shared/speech/`` has no reference text, so its WER cannot be
measured against truth. A larger Whisper than the tool's tiny.en is a neutral judge
between tiny.en's stream and tiny.en's offline pass: it shares neither's errors. It is not
human truth, and the benchmark says so where it uses it.

    python benchmarks/make_reference.py MODEL_DIR ../shared/speech/lca_auto_repairs_49.flac

writes ``benchmarks/references/<file stem>.json``. MODEL_DIR is any CTranslate2 Whisper
directory; the committed reference was made with Whisper base, see docs/transcription.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.transcription import read_channels  # noqa: E402

OPTIONS = {"language": "en", "beam_size": 5, "vad_filter": True, "condition_on_previous_text": False}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="CTranslate2 Whisper model directory")
    ap.add_argument("audio", type=Path)
    ap.add_argument("--name", default="", help="how the model is named in the file (default: the directory)")
    args = ap.parse_args(argv)

    from faster_whisper import WhisperModel

    model = WhisperModel(args.model, device="cpu", compute_type="float32", local_files_only=True)
    speakers, channels = read_channels(args.audio)
    text = {}
    for speaker, audio in zip(speakers, channels):
        segments, _ = model.transcribe(audio, **OPTIONS)
        text[speaker] = " ".join(s.text.strip() for s in segments)
    out = HERE / "references" / f"{args.audio.stem}.json"
    out.write_text(json.dumps({
        "audio": args.audio.name,
        "made_by": f"benchmarks/make_reference.py, model {args.name or Path(args.model).name}, "
                   f"faster-whisper transcribe({', '.join(f'{k}={v!r}' for k, v in OPTIONS.items())}), float32",
        "kind": "machine transcript by a larger model, not human truth",
        "text": text,
    }, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
