"""A render worker gives back what a document held once it is drawn (MuPDF's store, the C heap:
ingest/render_pool.release_memory), after a failure too; bench/render_memory.py measures it."""

from __future__ import annotations

import pytest

from docpipe.ingest import render_pool
from docpipe.ingest.discover import discover
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render import render_document
from tests.conftest import SAMPLES


class RenderError(Exception):
    """A renderer's own failure, raised out of the render function."""


def test_each_document_is_followed_by_a_release_even_when_it_fails(monkeypatch):
    released = []
    monkeypatch.setattr(render_pool, "release_memory", lambda: released.append(True))
    [source] = [d for d in discover(SAMPLES) if d.path.name == "invoice_acme.pdf"]
    doc = render_pool.render_and_release(render_document, source, 70, RenderOptions())
    assert doc.failure is None and len(doc.usable_pages) == 1 and released == [True]

    def broken(*args):
        raise RenderError("drawn wrong")

    with pytest.raises(RenderError):
        render_pool.render_and_release(broken, source, 70, RenderOptions())
    assert released == [True, True]


def test_releasing_is_harmless_where_it_runs():
    render_pool.release_memory()  # MuPDF's store emptied, glibc's heap trimmed (or nothing, off glibc)
    [source] = [d for d in discover(SAMPLES) if d.path.name == "invoice_acme.pdf"]
    assert render_document(source, 70, RenderOptions()).failure is None  # MuPDF works on after it


def test_the_pool_recycles_workers_and_releases_by_default():
    pool = render_pool.RenderPool(1, 60, None, recycle_after=2)
    try:
        sources = [d for d in discover(SAMPLES) if d.path.suffix == ".pdf"][:3]
        assert [d.failure for d in pool.render(sources, 70, RenderOptions())] == [None, None, None]
        assert pool.release
    finally:
        pool.close()
