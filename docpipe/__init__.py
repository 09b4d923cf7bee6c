"""docpipe: folders of documents in, Parquet tables out, read by Gemma 4.

Packages, lowest first (each imports only those below it; pyproject.toml's import-linter layers):
core; normalize; schema; ingest | engines | answers | transcribe | output; run | eval;
flows | review; cli. `api` (docpipe.extract) stands beside them and uses run.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Extractor", "__version__", "extract", "read_table"]


def __getattr__(name: str) -> Any:
    """`docpipe.read_table`, `docpipe.extract` and `docpipe.Extractor`, imported on first use
    (importing docpipe loads no pandas)."""
    if name == "read_table":
        from docpipe.output.reading import read_table

        return read_table
    if name in ("extract", "Extractor"):
        from docpipe.api import extraction

        return getattr(extraction, name)
    raise AttributeError(f"module 'docpipe' has no attribute {name!r}")
