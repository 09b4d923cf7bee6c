"""Passwords for encrypted PDFs, from a file.

Format (`--password-file`): UTF-8 text, one password per line. A line with tab-separated cells
(a TSV such as the `passwords.tsv` of a test corpus: `file<TAB>password[<TAB>...]`) contributes
its second cell. Empty lines are skipped, and so is a header row: a first line whose second cell
is a column name (`password`, `user_password`, `owner_password`). Every password is tried on
every encrypted file, the empty one first; none is ever written to a table or a log.
"""

from __future__ import annotations

from pathlib import Path

HEADER_NAMES = frozenset({"password", "user_password", "owner_password"})


def read_passwords(path: Path | None) -> tuple[str, ...]:
    """The passwords in `path`, in order, without duplicates (none for no file)."""
    if path is None:
        return ()
    found: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        cells = line.split("\t")
        value = cells[1] if len(cells) > 1 else cells[0]
        if number == 0 and len(cells) > 1 and value.strip().lower() in HEADER_NAMES:
            continue
        if value:
            found.append(value)
    return tuple(dict.fromkeys(found))
