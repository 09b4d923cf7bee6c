"""docpipe from Python, one document at a time: `extract` and `Extractor` (api/extraction.py).
Importing this package loads nothing; each name is imported on first use."""

from __future__ import annotations

from typing import Any

__all__ = ["Extraction", "Extractor", "extract"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from docpipe.api import extraction as module

        return getattr(module, name)
    raise AttributeError(f"module 'docpipe.api' has no attribute {name!r}")
