"""Which files under an input folder are documents to read: never an output folder (this run's OUT
wherever it lies, nor any other docpipe output folder), only what --include lets in, nothing that
--exclude keeps out.

Globs are matched against a file's path relative to the input folder, written with '/':
`*` matches across folders (`labels/*` holds `labels/a/b.json`), and a pattern without '/' also
matches the file's name alone (`*.json` anywhere). A folder that an --exclude pattern names
(`labels`, `labels/`, `labels/**`) is not walked at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

# what an output folder of docpipe holds (any one of them): its leases, its file index, its schemas
OUTPUT_MARKERS = ("_leases", ".file_index", "_schemas")


def is_output_folder(folder: str | os.PathLike) -> bool:
    """A docpipe output folder: one with its leases, its file index or its schemas in it."""
    return any(os.path.exists(os.path.join(folder, marker)) for marker in OUTPUT_MARKERS)


@dataclass(frozen=True)
class Selection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    outputs: tuple[Path, ...] = ()  # output folders (resolved) never read, even before they hold a marker

    def walks(self, folder: str, relative: str) -> bool:
        """Whether to look inside `folder` (`relative`: its path under the input folder)."""
        if Path(folder).resolve() in self.outputs or is_output_folder(folder):
            return False
        return not any(_names_folder(pattern, relative) for pattern in self.exclude)

    def takes(self, relative: str) -> bool:
        """Whether the file at `relative` (under the input folder) is a document to read."""
        if self.include and not any(_matches(pattern, relative) for pattern in self.include):
            return False
        return not any(_matches(pattern, relative) for pattern in self.exclude)


def _matches(pattern: str, relative: str) -> bool:
    pattern = pattern.strip().removeprefix("./")
    if "/" not in pattern.rstrip("/"):
        return fnmatchcase(relative.rsplit("/", 1)[-1], pattern) or fnmatchcase(relative, pattern)
    return fnmatchcase(relative, pattern) or fnmatchcase(relative, pattern.removeprefix("**/"))


def _names_folder(pattern: str, relative: str) -> bool:
    pattern = pattern.strip().removeprefix("./")
    for suffix in ("/**", "/*", "/"):
        if pattern.endswith(suffix):
            return _matches(pattern[: -len(suffix)], relative)
    return _matches(pattern, relative)
