"""Failures whose cause a setting governs, and the values of those settings a document failed with.

A corrupt file stays corrupt whatever a run does; an encrypted one opens with the right password,
a document over --max-pages reads with a higher limit, an answer cut at --max-new-tokens ends with
a larger one. The documents table keeps, beside such a failure, the values it failed with
(`failed_with`, JSON); a later run that brings a different value reads the document again.

Passwords are secret: what is kept is how many the run had, never a password or a hash of one. A
run with more or fewer passwords retries its encrypted documents; one with as many, other
passwords, needs `--retry-failed encrypted`.
"""

from __future__ import annotations

import json
from typing import Any

from docpipe.core.errors import Category

GOVERNED: dict[Category, tuple[str, ...]] = {
    Category.ENCRYPTED: ("passwords",),
    Category.TOO_LARGE: ("max_pages", "max_pixels", "render_memory_mb"),
    Category.TIMEOUT: ("render_timeout",),
    Category.RENDER_ERROR: ("render_timeout", "render_memory_mb"),  # a renderer stopped or killed
    Category.TRUNCATED: ("max_new_tokens", "pages_per_request", "max_text_length"),
}


# failures met before any model reads the document: what the model, prompt or budget is does not
# change them (a run with other settings leaves them as they are)
BEFORE_THE_MODEL = frozenset({
    Category.CORRUPT, Category.ENCRYPTED, Category.EMPTY, Category.UNREADABLE, Category.UNSUPPORTED,
    Category.TOO_LARGE, Category.TIMEOUT, Category.RENDER_ERROR, Category.OUTSIDE_INPUT,
})


def governing_values(config: Any) -> dict[str, Any]:
    """Every setting that governs a failure, as a run's settings (run/config.RunConfig) have it
    (passwords: how many)."""
    values = {name: getattr(config, name) for names in GOVERNED.values() for name in names if name != "passwords"}
    return {**values, "passwords": len(config.passwords)}


def failed_with(category: str | None, values: dict[str, Any]) -> str | None:
    """What the documents table keeps beside a failure of `category`: the values of the settings
    that govern it, as JSON (None when no setting does)."""
    names = GOVERNED.get(Category(category)) if category else None
    return None if not names else json.dumps({name: values[name] for name in names}, sort_keys=True)


def changed(category: str | None, kept: str | None, values: dict[str, Any]) -> list[str]:
    """The governing settings whose value differs from the one the failure was met with (as
    `--option old -> new`); empty when none does, or when nothing was kept (an older row)."""
    if not kept or not category or Category(category) not in GOVERNED:
        return []
    try:
        before = json.loads(kept)
    except ValueError:
        return []
    return [f"{_shown(name)} {before[name]} -> {values[name]}"
            for name in GOVERNED[Category(category)] if name in before and before[name] != values[name]]


def _shown(name: str) -> str:
    return "passwords given:" if name == "passwords" else "--" + name.replace("_", "-")
