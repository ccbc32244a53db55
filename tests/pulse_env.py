"""A private PulseAudio server for the tests that capture for real (scripts/pulse-test-env.sh).

Started once per test session, on first use, and stopped at exit. Tests skip when PulseAudio
is not installed, and fail in CI (which installs it: scripts/install-system-deps).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from system_tools import tool_missing

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pulse-test-env.sh"
CALL_SINK = "assist_call"  # default output: its monitor is the customer's side
REP_SINK = "assist_rep_line"  # whatever plays here comes out of the default input, assist_mic
MIC = "assist_mic"

IDLE_EXIT = "20"  # seconds without a client before the server quits by itself

_directory: str | None = None


def ensure_pulse() -> str:
    """Start the server if it is not running; set PULSE_SERVER for this process and its children.

    The server quits after IDLE_EXIT idle seconds (a killed test run leaves nothing behind), so
    every test asks again; when it is already up that costs one ``pactl info``.
    """
    global _directory
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        tool_missing("PulseAudio is not installed")
    if _directory is None:
        _directory = tempfile.mkdtemp(prefix="assist-pulse-")
        atexit.register(subprocess.run, [str(SCRIPT), "stop", _directory], check=False)
    done = subprocess.run(
        [str(SCRIPT), "start", _directory], capture_output=True, text=True, check=False,
        env={**os.environ, "IDLE_EXIT": IDLE_EXIT},
    )
    if done.returncode != 0:
        pytest.fail(f"cannot start PulseAudio: {done.stderr.strip()}")
    server = done.stdout.strip().split("PULSE_SERVER=", 1)[1]
    os.environ["PULSE_SERVER"] = server
    return server


def pactl(*args: str) -> str:
    return subprocess.run(
        ["pactl", *args], capture_output=True, text=True, check=True, env=os.environ
    ).stdout


def play(path: Path | str, sink: str) -> subprocess.Popen:
    """Play a file into a sink (as the call or the rep's voice) without waiting."""
    return subprocess.Popen(
        ["paplay", f"--device={sink}", str(path)], stdout=subprocess.DEVNULL, env=os.environ
    )


def load_null_sink(name: str) -> str:
    """A throw-away output whose monitor can be captured, then unloaded (a device unplugged)."""
    return pactl("load-module", "module-null-sink", f"sink_name={name}").strip()


def wait_for(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
