"""Clean up after runs that died mid-chunk, without touching the files of runs still writing.

Every file a chunk writes carries the chunk's tag (`part-<run>-c<seq>-<id>.parquet`), and the
chunk's `documents` file is written last: it is the chunk's commit (a compacted documents file
lists the tags it holds, compact.py). Files of a chunk without its commit, and temporary files of
interrupted writes, are moved under OUT/.orphaned/ (hidden from readers, kept for inspection,
never deleted) -- but only when the run that wrote them no longer holds a live lease (lease.py):
runs write side by side into one folder, and a live run's chunk in progress is not an orphan.
The runs table is never touched (its files are whole runs, written once at the end).
"""

from __future__ import annotations

import re
from pathlib import Path

from docpipe.output.lease import is_live
from docpipe.output.tables import COMPACT_PREFIX as COMPACTED
from docpipe.output.tables import FIXED, TAGS_KEY, meta_list

CHUNK_FILE = re.compile(r"part-(?P<run>.+)-(?P<seq>c\d{5})-[0-9a-f]{8}\.parquet")
TEMP_FILE = re.compile(r"\.part-(?P<run>.+)-(?P<seq>c\d{5})-[0-9a-f]{8}\.parquet\.tmp")


def table_dirs(out: Path) -> list[Path]:
    """The folders chunks write into (every table but runs)."""
    dirs = [out / name for name in FIXED if name != "runs"]
    records = out / "records"
    if records.is_dir():
        dirs += sorted(p for p in records.iterdir() if p.is_dir())
    return [d for d in dirs if d.is_dir()]


def committed_tags(out: Path) -> set[str]:
    """Tags (`<run>-c<seq>`) of every chunk whose documents file is written."""
    tags = set()
    for path in (Path(out) / "documents").glob("*.parquet"):
        if match := CHUNK_FILE.fullmatch(path.name):
            tags.add(f"{match['run']}-{match['seq']}")
        elif path.name.startswith(COMPACTED):
            try:
                tags |= meta_list(path, TAGS_KEY)
            except FileNotFoundError:  # replaced by a newer compaction meanwhile
                return committed_tags(out)
    return tags


def recover_orphans(out: Path) -> list[Path]:
    """Move uncommitted chunk files and temporary files of dead runs aside; return where they went."""
    out = Path(out)
    committed = committed_tags(out)
    live: dict[str, bool] = {}
    moved = []
    for folder in table_dirs(out):
        for path in sorted(folder.iterdir()):
            match = CHUNK_FILE.fullmatch(path.name) or TEMP_FILE.fullmatch(path.name)
            if match is None:
                if not _untagged_temp(path):
                    continue
            elif path.name.startswith("part-") and f"{match['run']}-{match['seq']}" in committed:
                continue
            else:
                run = match["run"]
                if run not in live:
                    live[run] = is_live(out, run)
                if live[run]:
                    continue  # a live run's chunk in progress
            target = out / ".orphaned" / path.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.replace(target)
            except FileNotFoundError:  # committed or cleaned up meanwhile by its own run
                continue
            moved.append(target)
    return moved


def _untagged_temp(path: Path) -> bool:
    """A temporary file no run's tag names (compaction's own are left to compaction)."""
    name = path.name
    return name.startswith(".") and name.endswith(".tmp") and not name.startswith(f".{COMPACTED}")
