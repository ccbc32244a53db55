"""Test helpers: write audio files in any format with PyAV, read the shared speech clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT.parent / "shared" / "speech"
JFK = SPEECH / "jfk.flac"
STEREO = SPEECH / "stereo_diarization.wav"
CALL = SPEECH / "lca_auto_repairs_49.flac"
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")
STEREO_TEXT = {
    "rep": "He began a confused complaint against the wizard, who had vanished behind the "
           "curtain on the left.",
    "customer": "The horizon seems extremely distant.",
}


def write_audio(path: Path, audio: np.ndarray, rate: int, codec: str | None = None) -> Path:
    """Encode float audio, shape (n,) or (n, channels), at ``rate`` into ``path``."""
    import av

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
    channels = audio.shape[1]
    layout = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 6: "5.1"}[channels]
    codec = codec or {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "mp3", ".opus": "libopus",
                      ".ogg": "libopus", ".m4a": "aac"}[path.suffix]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        planar = np.ascontiguousarray(audio.T)
        block = 1024 if codec != "libopus" else 960
        for i in range(0, planar.shape[1], block):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, i : i + block]), format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def read_file(path: Path, **options) -> tuple[tuple[str, ...], np.ndarray]:
    from assist.audio.file import FileSource

    src = FileSource(path, **options)
    blocks = []
    while (chunk := src.read()) is not None:
        blocks.append(chunk.samples)
    src.close()
    return src.speakers, np.concatenate(blocks) if blocks else np.zeros((0, len(src.speakers)))


def decode(path: Path) -> np.ndarray:
    """The file as 16 kHz float32, shape (n, channels) (faster-whisper's decoder)."""
    from faster_whisper.audio import decode_audio

    import av

    with av.open(str(path)) as c:
        channels = c.streams.audio[0].codec_context.channels
    if channels == 1:
        return decode_audio(str(path))[:, None]
    left, right = decode_audio(str(path), split_stereo=True)
    return np.stack([left, right], axis=1)
