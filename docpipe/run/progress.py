"""How a run reports progress; the CLI shows it as a progress bar."""

from __future__ import annotations

import logging
from typing import Protocol


class Progress(Protocol):
    def note(self, message: str) -> None: ...

    def begin(self, documents: int, task: str = "extracting") -> None: ...

    def advance(self, documents: int, pages: int) -> None: ...


class NoProgress:
    """Reports nothing but notes, which go to the log."""

    def note(self, message: str) -> None:
        logging.getLogger("docpipe").warning(message)

    def begin(self, documents: int, task: str = "extracting") -> None:
        pass

    def advance(self, documents: int, pages: int) -> None:
        pass
