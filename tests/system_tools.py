"""What to do when a test's system tool (PulseAudio, TTS voices) is missing.

On a developer's machine the test skips with the install hint. In CI (``CI`` set, as
``.ci/run`` is) it fails: ``scripts/install-system-deps`` installed the tools there, so a
missing one is a broken set-up, not a reason to pass without testing.
"""

from __future__ import annotations

import os

import pytest


def tool_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} — CI must install it (scripts/install-system-deps)")
    pytest.skip(reason)
