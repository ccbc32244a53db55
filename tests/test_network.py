"""Nothing goes over the network: the whole path runs with networking unavailable.

Strongest form: a fresh network namespace (``unshare -n``, as root in CI) where no socket can
reach anything. Where that is not allowed, a ``sitecustomize`` that makes every
``socket.connect`` fail stands in. Either way, the run also records any connection attempt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


SHARED = Path(__file__).resolve().parents[2] / "shared"
ROOT = Path(__file__).resolve().parents[1]

# Run in the child: model load, file → pipeline → rules → session log, as `assist live` wires it.
CALL = textwrap.dedent(
    """
    import socket, sys
    attempts = []
    _connect = socket.socket.connect
    def connect(self, address):
        attempts.append(address)
        return _connect(self, address)
    socket.socket.connect = connect
    from pathlib import Path
    from assist.audio.file import FileSource
    from assist.events import Word
    from assist.pipeline import Pipeline
    from assist.rules import Engine, default_rules_dir, load_pack
    from assist.session_log import SessionLog, read_log
    source = FileSource(sys.argv[1])
    engine = Engine(load_pack([default_rules_dir()]))
    with SessionLog.create(source=source.description) as log:
        for event in Pipeline(source, clock="fast").events():
            log.write(event)
            for prompt in engine.feed(event):
                log.write(prompt)
    words = "".join(e.text for e in read_log(log.path) if isinstance(e, Word))
    print("WORDS", words)
    print("ATTEMPTS", attempts)
    """
)

BLOCKER = "import socket\n" "def _no(self, *a, **k):\n    raise OSError('network disabled by test')\n" \
    "socket.socket.connect = _no\nsocket.socket.connect_ex = _no\n"


def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_a_whole_call_runs_with_no_network(tmp_path):
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "0"}
    # HF_HUB_OFFLINE=0 on purpose: the code itself must not try, whatever the environment says.
    command = [sys.executable, "-c", CALL, str(SHARED / "speech" / "jfk.flac")]
    if _unshare_works():
        command = ["unshare", "-n", *command]
    else:
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text(BLOCKER)
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), env.get("PYTHONPATH", "")])
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert "what you can do for your country" in out["WORDS"].lower()
    assert out["ATTEMPTS"] == "[]"  # not even tried
    assert list((tmp_path / "data" / "sessions").glob("*.jsonl"))
