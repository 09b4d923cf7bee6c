"""How a run reports progress; the CLI shows it as a progress bar."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, documents: int) -> None: ...

    def advance(self, documents: int, pages: int) -> None: ...


class NoProgress:
    def begin(self, documents: int) -> None:
        pass

    def advance(self, documents: int, pages: int) -> None:
        pass
