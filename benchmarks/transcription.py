#!/usr/bin/env python3
"""Streaming transcription benchmark: this pipeline against a naive baseline, in one run.

For each file (the real phone call, jfk.flac, stereo_diarization.wav, a synthetic
two-speaker call) and each method, the whole file runs through :class:`assist.pipeline.Pipeline`
on the *simulated* clock (every event's ``at`` is what it would be in real time on this
machine, but the run takes only the compute time), then:

- committed-word latency ``at - end`` (p50/p95), ``end`` from an offline
  ``transcribe(word_timestamps=True)`` pass over the channel, words matched by alignment;
- partial-word latency: when the word first showed, in a partial or committed;
- WER of the committed stream against the reference text, next to the offline
  ``transcribe()`` WER. The phone call has no human reference: its reference is a larger
  model's transcript (``benchmarks/references/``, made by ``make_reference.py``);
- CPU: process CPU seconds / call seconds (share of one core, averaged over the call);
- peak memory (RSS high-water mark of the run, model included);
- speed: the ``fast`` clock (one final pass per turn), × real time.

Methods: ``stream`` = short-window decode every 0.25 s of new speech, LocalAgreement-2,
the pipeline's CPU governor on (0.5 core); ``cli``: the same as a user runs it,
``assist transcribe FILE --jsonl`` in a process of its own (its peak memory and CPU are the
tool's alone, model load included; the other rows' peak is this whole script's);
``stream-uncapped``: the same without the
governor (what a machine with CPU to spare gets); ``naive`` = faster-whisper's own
``transcribe()`` (30 s padded, greedy) every 1 s on the same VAD-gated utterance buffer,
LocalAgreement-2, no governor.

    python benchmarks/transcription.py                 # everything (a few minutes)
    python benchmarks/transcription.py --files jfk --methods stream
    python benchmarks/transcription.py --sim-time wall # charge wall time (idle machine)

``--sim-time cpu`` (default) charges each pass its process CPU time, which on a machine
shared with other work is what the pass would take alone (the model runs on one thread);
``wall`` charges elapsed time; ``model:SCALE`` charges a fixed cost per pass (window length
and tokens, SCALE × the Intel machines' cost; ``assist.transcription.cost``) so that runs
repeat exactly: compare two policy variants at four or more scales (``schedules.py``), not by
one noisy run each (one policy's call WER spans 0.014-0.034 over scales 0.9-1.25). The
``cli`` row always charges CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    TimedWord, latencies, percentile, wer, window_ms,
)
from assist.transcription.cost import sim_time_arg  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech"
REFERENCES = {
    "jfk.flac": {"unknown": "And so my fellow Americans, ask not what your country can do for you, "
                 "ask what you can do for your country."},
    "stereo_diarization.wav": {
        "rep": "He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
        "customer": "The horizon seems extremely distant.",
    },
}
# Machine references for audio with no human one (see make_reference.py).
for _ref in sorted((HERE / "references").glob("*.json")):
    _data = json.loads(_ref.read_text())
    REFERENCES.setdefault(_data["audio"], _data["text"])
FILES = {
    "call": SPEECH / "lca_auto_repairs_49.flac",
    "jfk": SPEECH / "jfk.flac",
    "stereo": SPEECH / "stereo_diarization.wav",
    "synthetic": None,  # found or made at run time
}


# -- audio -----------------------------------------------------------------------------------
def read_channels(path: Path) -> tuple[tuple[str, ...], list[np.ndarray]]:
    from assist.audio.file import FileSource

    src = FileSource(path)
    blocks = []
    while (c := src.read()) is not None:
        blocks.append(c.samples)
    src.close()
    audio = np.concatenate(blocks)
    return src.speakers, [np.ascontiguousarray(audio[:, i]) for i in range(audio.shape[1])]


SYNTH_SCRIPT = [
    ("rep", "awb", "Good morning, thanks for calling Northside Supply. How can I help you today?"),
    ("customer", "slt", "Hi. I ordered twelve cases of gloves last week and only half of them arrived."),
    ("rep", "awb", "I am sorry to hear that. Can you give me the order number?"),
    ("customer", "slt", "Sure, it is four five two seven. The delivery came on Tuesday."),
    ("rep", "awb", "Thank you. I can see the order here. The rest should ship tomorrow morning."),
    ("customer", "slt", "That is fine, but I need them before the weekend."),
]


def synthetic_call(workdir: Path) -> tuple[Path, dict[str, str]]:
    """A role-played call fixture if the project has one, else one made with flite + sox."""
    fixtures = sorted((ROOT / "audio_fixtures").glob("*.json"))
    for sidecar in fixtures:
        data = json.loads(sidecar.read_text())
        audio = sidecar.with_name(data.get("audio", sidecar.stem + ".flac"))
        if audio.exists():
            texts: dict[str, list[str]] = {}
            for u in data.get("utterances", []):
                texts.setdefault(u["speaker"], []).append(u["text"])
            return audio, {k: " ".join(v) for k, v in texts.items()}
    if not shutil.which("flite") or not shutil.which("sox"):
        raise SystemExit("no audio_fixtures/*.json and no flite/sox to make a synthetic call")
    rate = 16_000
    t = 0.5
    placed = []
    for i, (speaker, voice, text) in enumerate(SYNTH_SCRIPT):
        raw, out = workdir / f"l{i}.wav", workdir / f"l{i}_16k.wav"
        subprocess.run(["flite", "-voice", voice if voice != "slt" else "slt", "-t", text, "-o", str(raw)], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)], check=True)
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        placed.append((speaker, t, x))
        t += len(x) / rate + 0.6
    total = int((t + 1.0) * rate)
    stereo = np.zeros((total, 2), dtype=np.float32)
    for speaker, start, x in placed:
        col = 0 if speaker == "rep" else 1
        a = int(start * rate)
        stereo[a : a + len(x), col] += x * 0.7
    path = workdir / "synthetic_call.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(stereo, -1, 1) * 32767).astype(np.int16).tobytes())
    refs: dict[str, list[str]] = {}
    for speaker, _, text in SYNTH_SCRIPT:
        refs.setdefault(speaker, []).append(text)
    return path, {k: " ".join(v) for k, v in refs.items()}


# -- measuring -------------------------------------------------------------------------------
def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Run:
    words: dict[str, list[TimedWord]] = field(default_factory=dict)
    first_seen: dict[str, list[TimedWord]] = field(default_factory=dict)  # partial latency
    cpu: float = 0.0
    wall: float = 0.0
    peak_mb: float = 0.0
    audio: float = 0.0
    stats: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def run_pipeline(path: Path, decoder, clock: str, sim_time, channel_options=None, **pipeline_options) -> Run:
    from assist.audio.file import FileSource
    from assist.events import Notice, Partial, Word
    from assist.pipeline import Pipeline
    from assist.transcription.agreement import normalize

    src = FileSource(path)
    pipe = Pipeline(src, decoder=decoder, clock=clock, sim_time=sim_time, channel_options=channel_options,
                    **pipeline_options)
    run = Run()
    shown: dict[str, list[tuple[str, float, float]]] = {}  # speaker -> (norm text, start, at)
    reset_peak_rss()
    c0, w0 = time.process_time(), time.perf_counter()
    for ev in pipe.events():
        if isinstance(ev, Word):
            run.words.setdefault(ev.speaker, []).append(TimedWord(ev.text, ev.start, ev.end, ev.at))
            seen = shown.setdefault(ev.speaker, [])
            key = normalize(ev.text)
            first = min((a for k, s, a in seen if k == key and abs(s - ev.start) < 0.6), default=ev.at)
            run.first_seen.setdefault(ev.speaker, []).append(TimedWord(ev.text, ev.start, ev.end, min(first, ev.at)))
        elif isinstance(ev, Partial):
            seen = shown.setdefault(ev.speaker, [])
            for w in ev.words:
                seen.append((normalize(w.text), w.start, ev.at))
            if len(seen) > 400:
                del seen[:-200]
        elif isinstance(ev, Notice):
            run.notices.append(ev.kind)
    run.cpu, run.wall = time.process_time() - c0, time.perf_counter() - w0
    run.peak_mb = peak_rss_mb()
    run.audio = pipe.stats.audio_seconds
    run.stats = pipe.stats.as_dict()
    return run


# The child reports its own peak: ru_maxrss would count this script's memory too (Linux keeps
# the high-water mark across the fork and exec), VmHWM belongs to the new address space.
_CLI_CHILD = """
import sys
from assist.cli import main
code = main(["transcribe", sys.argv[1], "--jsonl"])
sys.stdout.flush()
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(hwm.split()[1], file=sys.stderr)
sys.exit(code)
"""


def run_cli(path: Path) -> Run:
    """``assist transcribe FILE --jsonl`` in a process of its own: the memory and CPU a user
    sees, without this script's reference passes and arrays."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CLI_CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=ROOT)
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # a child's CPU is added once reaped
    if proc.returncode != 0:
        raise SystemExit(f"assist transcribe {path} failed: {err.decode().strip()[-300:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    run = Run(wall=time.perf_counter() - w0, cpu=cpu, peak_mb=int(err.decode().split()[-1]) / 1024)
    for line in out.decode().splitlines():
        ev = json.loads(line)
        if ev["type"] == "word":
            run.words.setdefault(ev["speaker"], []).append(TimedWord(ev["text"], ev["start"], ev["end"], ev["at"]))
    return run


def offline(model, audio: np.ndarray) -> list[TimedWord]:
    segments, _ = model.transcribe(audio, language="en", word_timestamps=True, vad_filter=True,
                                   vad_parameters={"min_silence_duration_ms": 500})
    return [TimedWord(w.word, w.start, w.end) for s in segments for w in (s.words or ())]


@dataclass
class BenchFile:
    """One benchmark file with what its runs are scored against: the offline pass's timed
    words per speaker (latency) and the reference text (WER)."""

    label: str
    path: Path
    speakers: tuple[str, ...]
    duration: float
    ref_words: dict[str, list[TimedWord]]
    reference_text: dict[str, str]
    offline_wer: float

    @classmethod
    def load(cls, name: str, model, workdir: Path) -> BenchFile:
        """``name`` is a key of FILES; the synthetic call is found or made in ``workdir``."""
        if name == "synthetic":
            path, refs = synthetic_call(workdir)
        else:
            path, refs = FILES[name], REFERENCES.get(FILES[name].name, {})
        speakers, channels = read_channels(path)
        duration = len(channels[0]) / 16000
        ref_words = {s: offline(model, ch) for s, ch in zip(speakers, channels)}
        reference_text = {s: refs.get(s) or " ".join(w.text for w in ref_words[s]) for s in speakers}
        offline_wer = (wer(" ".join(reference_text[s] for s in speakers),
                           " ".join(" ".join(w.text for w in ref_words[s]) for s in speakers))
                       if refs else float("nan"))
        label = f"{name} ({path.name}, {duration:.0f} s, {len(speakers)} ch)"
        return cls(label, path, speakers, duration, ref_words, reference_text, offline_wer)

    def score(self, run: Run, latency: bool = True) -> dict:
        """WER (and offline's), committed and partial latency p50/p95, words matched.
        ``latency=False`` (a fast-clock run: its ``at`` is no real time) skips the alignments."""
        lat, part = [], []
        for s in self.speakers if latency else ():
            lat += latencies(self.ref_words[s], run.words.get(s, []))
            part += latencies(self.ref_words[s], run.first_seen.get(s, []))
        stream_text = " ".join(" ".join(w.text for w in run.words.get(s, [])) for s in self.speakers)
        ref_all = " ".join(self.reference_text[s] for s in self.speakers)
        return {"wer": wer(ref_all, stream_text), "wer_offline": self.offline_wer,
                "lat50": percentile(lat, 50), "lat95": percentile(lat, 95),
                "part50": percentile(part, 50), "part95": percentile(part, 95),
                "matched": len(lat), "words": sum(len(v) for v in run.words.values())}


# -- the table -------------------------------------------------------------------------------
def machine_speed(decoder) -> float:
    """CPU ms to decode jfk.flac's first 6 s (median of 9): how fast this machine is today.

    The same code measured 30 % apart on two days; with this beside the table, runs on
    different days can be told apart from changes in the code.
    """
    _, channels = read_channels(FILES["jfk"])
    return window_ms(decoder, channels[0][: 6 * 16000])


def cpu_name() -> str:
    """The CPU's model and widest vector unit ("AMD EPYC, AVX2"): CTranslate2's int8 kernels
    differ by both, and so may the text (the same code gave the call's offline pass a WER of
    0.121 on one machine, 0.146 on an AMD EPYC with AVX2)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                 "CPU unknown")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    isa = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")) if flag in flags),
               "no AVX")
    return f"{model}, {isa}"


def fmt(x: float, spec: str = ".2f") -> str:
    return "—" if x != x else format(x, spec)


def key_values(pairs: list[str]) -> dict:
    """``KEY=VALUE`` options; a value that reads as JSON (a number, list, true, null) is one."""
    out = {}
    for kv in pairs:
        k, v = kv.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default="call,jfk,stereo,synthetic")
    ap.add_argument("--methods", default="stream,cli,stream-uncapped,naive")
    ap.add_argument("--sim-time", type=sim_time_arg, default="cpu", help="cpu (default), wall, or model[:SCALE]")
    ap.add_argument("--threads", type=int, default=None, help="CTranslate2 threads (default: assist's)")
    ap.add_argument("--no-fast", action="store_true", help="skip the fast-clock speed run")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="channel option for the stream method (repeatable), e.g. interval=0.3")
    ap.add_argument("--pipeline-option", action="append", default=[], metavar="KEY=VALUE",
                    help="pipeline option for the stream methods (repeatable), e.g. budget_burst=20")
    args = ap.parse_args(argv)

    from assist.model import DEFAULT_CPU_THREADS, cpu_threads_for, load_model
    from assist.transcription.decoder import TranscribeDecoder, WindowDecoder

    threads = args.threads or DEFAULT_CPU_THREADS
    model = load_model(cpu_threads=threads)
    options, pipeline_options = key_values(args.option), key_values(args.pipeline_option)
    methods = {  # decoder, channel options, pipeline options
        "stream": (lambda: WindowDecoder(model), options, pipeline_options),
        "stream-uncapped": (lambda: WindowDecoder(model), options, {**pipeline_options, "cpu_budget": None}),
        "naive": (lambda: TranscribeDecoder(model), {"interval": 1.0, "first_pass": 1.0}, {"cpu_budget": None}),
    }
    chosen = [m for m in args.methods.split(",") if m]
    speed = machine_speed(WindowDecoder(model))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.files.split(","):
            bench = BenchFile.load(name, model, Path(tmp))
            path, duration, label = bench.path, bench.duration, bench.label
            for method in chosen:
                if method == "cli":
                    run = run_cli(path)
                else:
                    make, opts, pipe_opts = methods[method]
                    run = run_pipeline(path, make(), "simulated", args.sim_time, opts, **pipe_opts)
                rows.append({
                    "file": label, "method": method, **bench.score(run),
                    "cpu": run.cpu / duration, "peak_mb": run.peak_mb,
                    "pass_ms": run.stats.get("pass_mean", float("nan")) * 1000,
                    "passes": run.stats.get("passes", "—"),
                    "wall": run.wall, "xrt": float("nan"), "notices": run.notices,
                })
                print(f"... {name} {method}: {rows[-1]['wer']:.3f} WER, p50 {rows[-1]['lat50']:.2f} s", file=sys.stderr)
            if not args.no_fast:
                fast_model = model if args.threads else load_model(cpu_threads=cpu_threads_for("fast"))
                fast = run_pipeline(path, WindowDecoder(fast_model), "fast", "wall", {})
                rows.append({
                    "file": label, "method": "fast clock", **bench.score(fast, latency=False),
                    "cpu": fast.cpu / duration, "peak_mb": fast.peak_mb,
                    "pass_ms": fast.stats["pass_mean"] * 1000, "passes": fast.stats["passes"],
                    "wall": fast.wall, "xrt": duration / fast.wall, "notices": fast.notices,
                })

    header = ("| file | method | WER | offline WER | commit p50 | commit p95 | partial p50 | partial p95 "
              "| CPU (1 core) | peak MB | pass ms | passes | × real time |")
    print(f"\nsimulated clock, sim-time={args.sim_time}, CTranslate2 threads={threads} "
          f"(fast clock: {args.threads or cpu_threads_for('fast')}, a thread per speaker), "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{cpu_name()}; this machine decodes a 6 s window in {speed:.0f} ms\n")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        print(f"| {r['file']} | {r['method']} | {fmt(r['wer'], '.3f')} | {fmt(r['wer_offline'], '.3f')} "
              f"| {fmt(r['lat50'])} | {fmt(r['lat95'])} | {fmt(r['part50'])} | {fmt(r['part95'])} "
              f"| {r['cpu'] * 100:.0f} % | {r['peak_mb']:.0f} | {fmt(r['pass_ms'], '.0f')} | {r['passes']} "
              f"| {fmt(r['xrt'], '.1f')} |")
    print("\nThe phone call has no human reference: its WER is against Whisper base's transcript "
          "(benchmarks/references/), a judge that shares neither tiny.en pass's errors.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
