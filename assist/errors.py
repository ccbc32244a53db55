"""Errors that end a command with one clear line and a non-zero exit status."""

from __future__ import annotations


class AssistError(Exception):
    """A user-facing failure: ``str(exc)`` is the one line shown, ``exit_code`` the status."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class AudioError(AssistError):
    """An audio file that cannot be read, or a device that cannot be opened."""


class DeviceLost(AudioError):
    """A capture device failed mid-call."""


class RuleError(AssistError):
    """An invalid rule pack; the message lists ``file:line: problem`` entries."""

    exit_code = 1
