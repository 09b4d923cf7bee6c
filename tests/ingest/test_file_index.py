"""The file index: a rerun reads no unchanged file's bytes; anything that could have changed a
file's content (its size, mtime, ctime, device or inode) has it read again; an index that cannot be
read whole is set aside and rebuilt, never trusted; runs of one output folder share it."""

from __future__ import annotations

import os
import shutil
from unittest import mock

import pytest

from docpipe.ingest import discover as discover_module
from docpipe.ingest.discover import discover, sha256_file
from docpipe.ingest.file_index import INDEX_DIR, MAX_SEGMENTS, FileIndex
from tests.conftest import SAMPLES


@pytest.fixture
def folder(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for index in range(6):
        (inbox / ("sub" if index % 2 else "") / f"doc{index}.pdf").write_bytes(b"%PDF-1.4 " + bytes([65 + index]) * 5000)
    return inbox


class Reads:
    """Counts the files discovery reads (every read of a file's bytes goes through _read)."""

    def __init__(self):
        self.paths = []
        self.real = discover_module._read

    def __call__(self, path):
        self.paths.append(path.name)
        return self.real(path)


def _discover(inbox, out, **kwargs):
    reads = Reads()
    with mock.patch.object(discover_module, "_read", reads):
        documents = discover(inbox, index=FileIndex(out), **kwargs)
    return documents, sorted(reads.paths)


def test_a_rerun_reads_no_unchanged_file(folder, tmp_path):
    first, read = _discover(folder, tmp_path / "out")
    assert len(read) == 6
    again, read = _discover(folder, tmp_path / "out")
    assert read == []
    assert again == first
    assert [d.doc_id for d in again] == [sha256_file(d.path) for d in again]


def test_new_changed_and_replaced_files_are_read_again(folder, tmp_path):
    out = tmp_path / "out"
    _discover(folder, out)
    (folder / "new.pdf").write_bytes(b"%PDF-1.4 new")
    (folder / "doc0.pdf").write_bytes(b"%PDF-1.4 grown" * 1000)  # a new size
    replacement = tmp_path / "other.pdf"
    replacement.write_bytes(b"%PDF-1.4 " + b"Z" * 5000)
    os.replace(replacement, folder / "doc2.pdf")  # same size, another inode
    documents, read = _discover(folder, out)
    assert read == ["doc0.pdf", "doc2.pdf", "new.pdf"]
    assert {d.path.name: d.doc_id for d in documents}["doc2.pdf"] == sha256_file(folder / "doc2.pdf")


def test_a_file_overwritten_with_its_size_and_mtime_kept_is_read_again(folder, tmp_path):
    """What `cp -p` over a file does: same inode, same size, the old mtime set back; only the
    ctime, which no program can set, tells."""
    out = tmp_path / "out"
    target = folder / "doc4.pdf"
    before = target.stat()
    _discover(folder, out)
    source = tmp_path / "source.pdf"
    source.write_bytes(b"%PDF-1.4 " + b"Q" * 5000)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    shutil.copy2(source, target)  # cp -p
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    documents, read = _discover(folder, out)
    assert read == ["doc4.pdf"]
    assert {d.path.name: d.doc_id for d in documents}["doc4.pdf"] == sha256_file(target)


def test_rehash_reads_everything(folder, tmp_path):
    _discover(folder, tmp_path / "out")
    _, read = _discover(folder, tmp_path / "out", rehash=True)
    assert len(read) == 6


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_an_index_that_cannot_be_read_whole_is_rebuilt_never_trusted(folder, tmp_path, damage):
    out = tmp_path / "out"
    _discover(folder, out)
    (segment,) = (out / INDEX_DIR).glob("seg-*.parquet")
    data = segment.read_bytes()
    segment.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"x" * len(data), "empty": b""}[damage])
    (folder / "doc0.pdf").write_bytes(b"%PDF-1.4 changed while the index was broken")
    index = FileIndex(out)
    reads = Reads()
    with mock.patch.object(discover_module, "_read", reads):
        documents = discover(folder, index=index)
    assert len(reads.paths) == 6  # nothing was trusted
    assert [d.doc_id for d in documents] == [sha256_file(d.path) for d in documents]
    assert index.set_aside and index.set_aside[0].parent == out / ".orphaned" / INDEX_DIR
    _, read = _discover(folder, out)
    assert read == []  # rebuilt


def test_segments_are_merged_past_the_limit(folder, tmp_path):
    out = tmp_path / "out"
    for round_ in range(MAX_SEGMENTS + 2):
        (folder / f"more{round_}.pdf").write_bytes(b"%PDF-1.4 more" + bytes([round_]))
        _discover(folder, out)
    segments = list((out / INDEX_DIR).glob("seg-*.parquet"))
    assert len(segments) <= MAX_SEGMENTS
    _, read = _discover(folder, out)
    assert read == []


def test_runs_over_one_output_folder_share_the_index(tmp_path):
    """Shards of one submission: the submitter indexes the folder once (`docpipe submit`), and
    every shard's run then reads no file's bytes."""
    from docpipe.run.config import RunConfig
    from docpipe.run.progress import NoProgress
    from docpipe.run.protocol import execute, plain_stages
    from docpipe.schema.load import resolve_schema
    from tests.fakes import GroundTruthEngine

    out = tmp_path / "out"
    _, read = _discover(SAMPLES, out)
    assert len(read) == len([p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.startswith(".")])
    reads = Reads()
    with mock.patch.object(discover_module, "_read", reads), plain_stages() as stages:
        for shard in range(2):
            config = RunConfig(input=SAMPLES, out=out, budget=280, render_workers=0, shard_index=shard, shard_count=2)
            execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    assert reads.paths == []
    assert len(list((out / INDEX_DIR).glob("seg-*.parquet"))) == 1
    import pandas as pd

    documents = pd.read_parquet(out / "documents")
    assert documents["doc_id"].is_unique and len(documents) == len(read)
