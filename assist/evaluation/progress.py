"""A progress bar on stderr while fixtures replay (rich, which comes with textual)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .fixtures import Fixture


class _Bar:
    def __init__(self, progress, total_task) -> None:
        self._progress = progress
        self._total = total_task

    @contextmanager
    def fixture(self, fixture: Fixture) -> Iterator[Callable[[float, float | None], None]]:
        """Yields the callback :func:`run_fixture` reports call seconds processed to."""
        if self._progress is None:
            yield lambda done, total: None
            return
        task = self._progress.add_task(fixture.name, total=None)

        def advance(done: float, total: float | None) -> None:
            self._progress.update(task, completed=done, total=total)

        try:
            yield advance
        finally:
            self._progress.remove_task(task)
            self._progress.advance(self._total)


@contextmanager
def progress_bar(fixtures: list[Fixture], *, enabled: bool = True) -> Iterator[_Bar]:
    if not enabled:
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<24}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        total = progress.add_task("fixtures", total=len(fixtures))
        yield _Bar(progress, total)


__all__ = ["progress_bar"]
