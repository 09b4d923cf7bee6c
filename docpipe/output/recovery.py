"""Clean up after a run that died mid-chunk.

Every file a chunk writes carries the chunk's tag (`part-<run>-c<seq>-<id>.parquet`), and the
chunk's `documents` file is written last: it is the chunk's commit. Files of a chunk without its
documents file (the run was killed between them), and temporary files of interrupted writes, are
moved under OUT/.orphaned/ (hidden from readers, kept for inspection, never deleted). Runs call
this while holding the output lock, so no live run's chunk is ever taken for an orphan.
"""

from __future__ import annotations

import re
from pathlib import Path

from docpipe.output.tables import FIXED

CHUNK_FILE = re.compile(r"part-(?P<tag>.+-c\d{5})-[0-9a-f]{8}\.parquet")


def table_dirs(out: Path) -> list[Path]:
    dirs = [out / name for name in FIXED]
    records = out / "records"
    if records.is_dir():
        dirs += sorted(p for p in records.iterdir() if p.is_dir())
    return [d for d in dirs if d.is_dir()]


def recover_orphans(out: Path) -> list[Path]:
    """Move uncommitted chunk files and temporary files aside; return where they went."""
    out = Path(out)
    committed = {
        m["tag"] for p in (out / "documents").glob("*.parquet") if (m := CHUNK_FILE.fullmatch(p.name))
    }
    moved = []
    for folder in table_dirs(out):
        for path in sorted(folder.iterdir()):
            match = CHUNK_FILE.fullmatch(path.name)
            stale_temp = path.name.startswith(".") and path.name.endswith(".tmp")
            if stale_temp or (match and match["tag"] not in committed):
                target = out / ".orphaned" / path.relative_to(out)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.replace(target)
                moved.append(target)
    return moved
