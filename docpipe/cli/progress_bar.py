"""The run's progress as a rich progress bar (the flow reports through run/progress.Progress)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class BarProgress:
    """A progress bar over documents, with pages counted alongside."""

    def __init__(self, console: Console):
        self._bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("docs  {task.fields[pages]} pages"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self._task = None
        self._pages = 0

    def note(self, message: str) -> None:
        self._bar.console.print(f"[yellow]{message}[/yellow]")

    def begin(self, documents: int, task: str = "extracting") -> None:
        self._bar.start()
        self._task = self._bar.add_task(task, total=documents, pages=0)

    def advance(self, documents: int, pages: int) -> None:
        self._pages += pages
        self._bar.update(self._task, advance=documents, pages=self._pages)

    def stop(self) -> None:
        self._bar.stop()
