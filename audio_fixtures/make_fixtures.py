#!/usr/bin/env python3
"""Regenerate the role-played call fixtures from their scripts, bit-identically.

Each ``NN_name.toml`` is a call script (who says what, with the timing intent: the gap or
overlap before each line, pauses inside it). This script speaks every line with offline TTS
(festival for the rep, flite for the customer), places it on its channel (left = rep, right =
customer) at its time, optionally narrows the whole call to the telephone band, and writes

* ``NN_name.flac`` — the stereo call audio;
* ``NN_name.json`` — the sidecar ``assist eval`` reads: every utterance's measured start/end
  and text, and the expected prompts as absolute time windows.

Usage:  python audio_fixtures/make_fixtures.py [NAME ...] [--out DIR]

Everything is deterministic: TTS engines are deterministic, sox runs without dither (``-D``)
with pinned effects, and noise comes from numpy's frozen legacy ``RandomState`` stream.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 16_000
PHONE_RATE = 8_000
# Voices measured clearest with tiny.en (see ../shared/DESIGN.md); one male, one female so the
# two sides are easy to tell apart by ear.
VOICES = {
    "rep": ("festival", "cmu_us_slt_arctic_hts"),
    "customer": ("flite", "awb"),
}
GAIN = 0.6  # keeps TTS peaks (≤ 0.76) clear of clipping after the band filter
TRIM_THRESHOLD = 0.01  # amplitude below which TTS lead-in/tail counts as silence
PAUSE_MARK = "..."  # inside a line: a pause of the line's ``pause`` seconds
DEFAULT_PAUSE = 0.6
DEFAULT_GAP = 0.5
LEAD_IN = 1.0
TAIL = 2.0
DEFAULT_WINDOW_AFTER_END = 3.0


class ScriptError(Exception):
    """A call script that cannot be rendered; the message names file and line."""


@dataclass
class Line:
    id: str
    speaker: str
    text: str
    gap: float
    pause: float
    start: float = 0.0
    end: float = 0.0
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


def tts_tools_missing() -> list[str]:
    """Names of the TTS/sox programs this machine lacks (tests skip when any is missing)."""
    missing = [p for p in ("sox", "flite", "text2wave") if shutil.which(p) is None]
    if not missing:
        probe = subprocess.run(
            ["festival", "--batch", "(voice_cmu_us_slt_arctic_hts)"],
            capture_output=True, text=True,
        )
        if probe.returncode != 0 or "not defined" in probe.stderr + probe.stdout:
            missing.append("festvox-us-slt-hts")
    return missing


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / 32768.0


def synthesize(text: str, speaker: str, tmp: Path) -> np.ndarray:
    """One stretch of speech (no pauses inside), 16 kHz mono float32, silence trimmed."""
    engine, voice = VOICES[speaker]
    raw, resampled = tmp / "raw.wav", tmp / "res.wav"
    if engine == "festival":
        (tmp / "text.txt").write_text(text + "\n")
        cmd = ["text2wave", "-eval", f"(voice_{voice})", str(tmp / "text.txt"), "-o", str(raw)]
    else:
        cmd = ["flite", "-voice", voice, "-t", text, "-o", str(raw)]
    subprocess.run(cmd, check=True, capture_output=True)
    subprocess.run(
        ["sox", "-D", "-V1", str(raw), "-b", "16", "-c", "1", str(resampled), "rate", "-h", str(RATE)],
        check=True, capture_output=True,
    )
    audio = _read_wav(resampled)
    loud = np.flatnonzero(np.abs(audio) > TRIM_THRESHOLD)
    if loud.size == 0:
        raise ScriptError(f"TTS produced silence for {text!r}")
    return audio[loud[0] : loud[-1] + 1] * GAIN


def speak_line(line: Line, tmp: Path) -> np.ndarray:
    """A whole line: its stretches joined by the line's pauses."""
    pieces = [p.strip(" ,") for p in line.text.split(PAUSE_MARK)]
    pieces = [p for p in pieces if p]
    silence = np.zeros(round(line.pause * RATE), np.float32)
    out: list[np.ndarray] = []
    for i, piece in enumerate(pieces):
        if i:
            out.append(silence)
        out.append(synthesize(piece, line.speaker, tmp))
    return np.concatenate(out)


def _spoken_text(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(PAUSE_MARK, ", ").replace(" ,", ",")).strip(" ,")


def _toml_line_numbers(source: str, table: str) -> list[int]:
    """1-based line number of each ``[[table]]`` header, for error messages."""
    return [i + 1 for i, row in enumerate(source.splitlines()) if row.strip() == f"[[{table}]]"]


def load_script(path: Path) -> tuple[dict, list[Line]]:
    source = path.read_text()
    try:
        script = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(f"{path}: {exc}") from None
    numbers = _toml_line_numbers(source, "line")
    lines: list[Line] = []
    for i, raw in enumerate(script.get("line", [])):
        where = f"{path}:{numbers[i] if i < len(numbers) else '?'}"
        if raw.get("speaker") not in VOICES:
            raise ScriptError(f"{where}: speaker must be 'rep' or 'customer'")
        if not raw.get("text", "").strip():
            raise ScriptError(f"{where}: line has no text")
        lines.append(Line(
            id=str(raw.get("id", f"l{i + 1}")), speaker=raw["speaker"], text=raw["text"],
            gap=float(raw.get("gap", DEFAULT_GAP)), pause=float(raw.get("pause", DEFAULT_PAUSE)),
        ))
    if not lines:
        raise ScriptError(f"{path}: no [[line]] entries")
    ids = [ln.id for ln in lines]
    if len(set(ids)) != len(ids):
        raise ScriptError(f"{path}: duplicate line ids")
    return script, lines


def place(lines: list[Line]) -> float:
    """Give every line its start/end: ``gap`` counts from the end of everything said before it
    (negative = overlap).  Returns the call length.  Lines of one speaker must not overlap."""
    floor_free = LEAD_IN
    last_end = {"rep": 0.0, "customer": 0.0}
    for ln in lines:
        n = len(ln.audio)
        start_sample = max(0, round((floor_free + ln.gap) * RATE))
        ln.start = start_sample / RATE
        ln.end = (start_sample + n) / RATE
        if ln.start < last_end[ln.speaker]:
            raise ScriptError(f"line {ln.id!r} overlaps the same speaker's previous line")
        last_end[ln.speaker] = ln.end
        floor_free = max(floor_free, ln.end)
    return floor_free + TAIL


def mix(lines: list[Line], duration: float, noise_seed: int | None) -> np.ndarray:
    frames = round(duration * RATE)
    stereo = np.zeros((frames, 2), np.float32)
    for ln in lines:
        ch = 0 if ln.speaker == "rep" else 1
        s = round(ln.start * RATE)
        stereo[s : s + len(ln.audio), ch] += ln.audio
    if noise_seed is not None:
        # A faint line-noise floor: real calls are never digitally silent.
        stereo += np.random.RandomState(noise_seed).standard_normal(stereo.shape).astype(np.float32) * 0.002
    return np.clip(np.round(stereo * 32767.0), -32768, 32767).astype("<i2")


def _window(script_path: Path, entry: dict, by_id: dict[str, Line], kind: str) -> dict:
    rule = entry.get("rule")
    if not rule:
        raise ScriptError(f"{script_path}: [[{kind}]] without rule")
    if "line" not in entry:
        return {"rule": rule, "start": 0.0, "end": None, "note": entry.get("note", "")}
    ref = by_id.get(entry["line"])
    if ref is None:
        raise ScriptError(f"{script_path}: [[{kind}]] {rule}: no line with id {entry['line']!r}")
    last = by_id.get(entry.get("until_line", entry["line"]))
    if last is None:
        raise ScriptError(f"{script_path}: [[{kind}]] {rule}: no line {entry['until_line']!r}")
    return {
        "rule": rule,
        "line": ref.id,
        "start": round(ref.start + float(entry.get("after_start", 0.0)), 3),
        "end": round(last.end + float(entry.get("after_end", DEFAULT_WINDOW_AFTER_END)), 3),
        "note": entry.get("note", ""),
    }


def build(script_path: Path, out_dir: Path) -> Path:
    """Render one call script; returns the audio path."""
    script, lines = load_script(script_path)
    call = script.get("call", {})
    band = call.get("band", "wide")
    if band not in ("wide", "phone"):
        raise ScriptError(f"{script_path}: call.band must be 'wide' or 'phone'")
    with tempfile.TemporaryDirectory(prefix="assist-fixture-") as tmpdir:
        tmp = Path(tmpdir)
        for ln in lines:
            ln.audio = speak_line(ln, tmp)
        try:
            duration = place(lines)
        except ScriptError as exc:
            raise ScriptError(f"{script_path}: {exc}") from None
        pcm = mix(lines, duration, noise_seed=int(call.get("noise_seed", 0)) if band == "phone" else None)
        mixed = tmp / "mix.wav"
        with wave.open(str(mixed), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        audio_path = out_dir / f"{script_path.stem}.flac"
        effects = ["sinc", "300-3400", "rate", "-h", str(PHONE_RATE)] if band == "phone" else []
        subprocess.run(
            ["sox", "-D", "-V1", str(mixed), "-b", "16", str(audio_path), *effects],
            check=True, capture_output=True,
        )
    by_id = {ln.id: ln for ln in lines}
    sidecar = {
        "audio": audio_path.name,
        "title": call.get("title", script_path.stem),
        "practice": call.get("practice", ""),
        "band": band,
        "duration": round(duration, 3),
        "generated_from": script_path.name,
        # Lets a test notice a script edited without regenerating its audio.
        "script_sha256": hashlib.sha256(script_path.read_bytes()).hexdigest(),
        "allow": list(call.get("allow", [])),
        "utterances": [
            {"id": ln.id, "speaker": ln.speaker, "start": round(ln.start, 3),
             "end": round(ln.end, 3), "text": _spoken_text(ln.text)}
            for ln in lines
        ],
        "expect": [_window(script_path, e, by_id, "expect") for e in script.get("expect", [])],
        "must_not": [_window(script_path, e, by_id, "must_not") for e in script.get("must_not", [])],
    }
    (out_dir / f"{script_path.stem}.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    return audio_path


def scripts(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("[0-9][0-9]_*.toml"))
    if not names:
        return found
    chosen = [p for p in found if any(p.stem == n or p.stem.startswith(n) for n in names)]
    if len(chosen) < len(names):
        raise ScriptError(f"no script matches some of {names} in {HERE}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="scripts to render (stem or NN prefix); default all")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: here)")
    args = parser.parse_args(argv)
    missing = tts_tools_missing()
    if missing:
        print(f"make_fixtures: missing {', '.join(missing)} (scripts/install-system-deps)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for path in scripts(args.names):
            audio = build(path, args.out)
            print(f"{audio}  ({json.loads(audio.with_suffix('.json').read_text())['duration']:.1f} s)")
    except (ScriptError, subprocess.CalledProcessError) as exc:
        print(f"make_fixtures: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
