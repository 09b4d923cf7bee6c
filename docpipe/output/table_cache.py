"""A table's chosen columns kept in memory, each file read once: for a long-lived reader (the
review page) that must keep up with a folder runs keep appending to.

`refresh()` lists the table's files (tables.table_file_names: no temporary files, nothing a
compacted file replaces), reads the chosen columns of the files it has not seen, forgets the files that
went (compacted, moved aside), and says whether anything changed; listing is all it costs when
nothing did. Every row carries where it lies (`_file`, `_row`: its file and row in it), so one row
is read back whole from its file's row group alone (`read_row`), never the table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from docpipe.output.tables import MANY_FILES, READERS, table_dir, table_file_names

FILE, ROW = "_file", "_row"


class TableCache:
    def __init__(self, out: Path, table: str, columns: Sequence[str] | None = None):
        self.out, self.table, self.columns = Path(out), table, None if columns is None else list(columns)
        self._files: dict[str, pa.Table] = {}  # file name -> its columns, with _file and _row
        self._groups: dict[str, np.ndarray] = {}  # file name -> first row of each row group
        self._replaces: dict[str, set[str]] = {}  # compacted file name -> the files it replaces
        self._arrow: pa.Table | None = None
        self.version = 0  # counts the changes refresh saw: a key for what is computed from the table
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Read what is new; True when the table changed since the last refresh."""
        with self._lock:
            folder = table_dir(self.out, self.table)
            names = set(_listed(folder, self._replaces))
            gone = [name for name in self._files if name not in names]
            new = [folder / name for name in sorted(names) if name not in self._files]
            for name in gone:
                del self._files[name]
                del self._groups[name]
            with ThreadPoolExecutor(max_workers=READERS if len(new) >= MANY_FILES else 1) as pool:
                for path, read in zip(new, pool.map(self._read, new), strict=True):
                    if read is not None:  # None: compacted away since it was listed; the next refresh sees why
                        self._files[path.name], self._groups[path.name] = read
            if gone or new or self._arrow is None:
                tables = [self._files[name] for name in sorted(self._files)]
                self._arrow = pa.concat_tables(tables, promote_options="default") if tables else None
                self.version += 1
                return True
            return False

    def arrow(self) -> pa.Table | None:
        """The chosen columns of every row (None: the table has no files), with _file and _row."""
        return self._arrow

    def read_row(self, file: str, row: int, columns: Sequence[str] | None = None) -> dict[str, Any] | None:
        """Row `row` of `file`, whole (or `columns` of it), read from its row group alone; None
        when the file went meanwhile (compacted: refresh and look again)."""
        starts = self._groups.get(file)
        if starts is None:
            return None
        group = int(np.searchsorted(starts, row, side="right")) - 1
        try:
            part = pq.ParquetFile(table_dir(self.out, self.table) / file).read_row_group(group, columns=columns)
        except FileNotFoundError:
            return None
        return part.slice(row - int(starts[group]), 1).to_pylist()[0]

    def _read(self, path: Path) -> tuple[pa.Table, np.ndarray] | None:
        try:
            parquet = pq.ParquetFile(path)
        except FileNotFoundError:
            return None
        meta = parquet.metadata
        starts = np.cumsum([0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)])[:-1]
        present = set(parquet.schema_arrow.names)
        wanted = None if self.columns is None else [c for c in self.columns if c in present]
        part = parquet.read(columns=wanted, use_threads=False)
        part = part.append_column(FILE, pa.array([path.name] * part.num_rows, pa.string()).dictionary_encode())
        return part.append_column(ROW, pa.array(np.arange(part.num_rows, dtype=np.int64))), starts


def _listed(folder: Path, replaces: dict[str, set[str]]) -> list[str]:
    for _ in range(4):
        try:
            return table_file_names(folder, replaces)
        except FileNotFoundError:  # a compaction replaced a file while it was listed: list again
            continue
    return table_file_names(folder, replaces)
