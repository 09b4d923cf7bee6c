"""What people call a document: its path relative to the input folder, as the documents table keeps
it, and every other path with the same content (copies). One lookup for `show --doc`, reviews and
labels: a relative path, an absolute one, the end of a path, a bare file name or stem, or the
start of a doc_id; a bare name that two documents in different folders share is ambiguous, and
says which files it could mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from docpipe.core.errors import Category, TerminalError


@dataclass
class Named:
    doc_id: str
    name: str  # the path (under the input folder) of the file read
    names: list[str] = field(default_factory=list)  # every name of its content, copies included
    paths: list[str] = field(default_factory=list)  # every absolute path of it


class Ambiguous(TerminalError, ValueError):
    """A name that more than one document answers to."""

    def __init__(self, wanted: str, candidates: list[Named]):
        self.candidates = candidates
        listed = ", ".join(sorted(c.name for c in candidates))
        super().__init__(f"{wanted!r} names {len(candidates)} documents: {listed}; give its path under the input folder")


def pages_label(first: int, last: int) -> str:
    """How a document of a sorted file is named after the file's name: ' (page 3)', ' (pages 3-4)'."""
    return f" (page {first})" if first == last else f" (pages {first}-{last})"


SORTED = "segments"  # the documents table's `schema` of a file read by sorting (docpipe/classify)


def document_names(out: Path, table: str | None = None) -> dict[str, Named]:
    """doc_id -> its names, from the documents table (only readings into `table` when given). A
    row written before names were kept is named by its file name."""
    from docpipe.output.tables import read_all

    documents = read_all(out, "documents")
    if documents.empty:
        return {}
    if "name" not in documents.columns:
        documents["name"] = None
    if table is not None:  # a sorted file (table segments) may hold records of any schema
        documents = documents.loc[documents["schema"].isin([table, SORTED])]
    documents = documents.assign(name=documents["name"].fillna(documents["source_path"].map(lambda p: Path(p).name)),
                                 copy=documents["error_category"] == str(Category.DUPLICATE))
    found: dict[str, Named] = {}
    for row in documents.sort_values(["copy", "finished_at"], ascending=[False, True], kind="stable").itertuples():
        named = found.setdefault(row.doc_id, Named(row.doc_id, row.name))
        if not row.copy:
            named.name = row.name  # the latest reading's file
        if row.name not in named.names:
            named.names.append(row.name)
        if row.source_path not in named.paths:
            named.paths.append(row.source_path)
    return found


def find(named: dict[str, Named], wanted: str) -> list[Named]:
    """The documents `wanted` names, by the first rule that finds any: a name or absolute path;
    a name without its suffix; the end of a name ('supplierB/invoice.pdf'); a bare file name or
    stem; the start of a doc_id (6 characters at least)."""
    wanted = wanted.strip().removeprefix("./")
    tiers = (
        lambda n: wanted in n.names or wanted in n.paths,
        lambda n: any(_stem(name) == wanted for name in n.names),
        lambda n: any(names_file(wanted, name) for name in n.names),
        lambda n: len(wanted) >= 6 and n.doc_id.startswith(wanted),
    )
    for rule in tiers:
        hits = [n for n in named.values() if rule(n)]
        if hits:
            return hits
    return []


def find_one(named: dict[str, Named], wanted: str) -> Named | None:
    """The one document `wanted` names; None when none does; Ambiguous when several do."""
    hits = find(named, wanted)
    if len(hits) > 1:
        raise Ambiguous(wanted, hits)
    return hits[0] if hits else None


def names_file(wanted: str, name: str) -> bool:
    """Whether `wanted` names the file `name` (a path under the input folder) by its end: with a
    '/', the end of its path, suffix or not ('supplierB/invoice'); bare, its file name or stem."""
    if "/" in wanted:
        return _ends(name, wanted)
    path = PurePosixPath(name)
    return wanted in (path.name, path.stem)


def _stem(name: str) -> str:
    path = PurePosixPath(name)
    return str(path.with_suffix("")) if path.suffix else name


def _ends(name: str, wanted: str) -> bool:
    return any(x == wanted or x.endswith("/" + wanted) for x in (name, _stem(name)))
