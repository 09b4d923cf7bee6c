"""One way for a command to fail: `error: <what, and what to do>` on stderr, and an exit code
(2: the command or its input was wrong, nothing was done; 1: the work itself failed, what was
done is kept)."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console


def fail(message: str, code: int = 2, **printing: Any) -> NoReturn:
    """Say `message` as an error and exit with `code`; `printing`: rich's print options
    (highlight=False for a message holding paths or numbers that must not be coloured)."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", **printing)
    raise typer.Exit(code)
