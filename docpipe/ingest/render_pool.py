"""Rendering in worker processes, so that no input can take the run down.

Each document is rendered by a worker process (pebble's process pool) under a time limit and an
address-space limit. A renderer that hangs is killed at the time limit (category `timeout`), one
that crashes (a segfault in a C library) or runs out of memory fails alone (`render_error`,
`too_large`), and the pool replaces the worker. The workers come from a fork server, so they do
not inherit the model or its threads. Rendering also runs in parallel, ahead of the GPU.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import resource
from collections.abc import Callable, Sequence
from typing import Protocol

from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import RenderedDocument, SourceDocument
from docpipe.ingest.limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, RenderOptions
from docpipe.ingest.render import render_document


class Renderer(Protocol):
    def render(self, sources: Sequence[SourceDocument], budget: int, options: RenderOptions) -> list[RenderedDocument]: ...

    def close(self) -> None: ...


def _limit_memory(limit_bytes: int | None) -> None:
    if limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


class InlineRenderer:
    """Renders in this process: no isolation (for debugging and small tests)."""

    def render(self, sources: Sequence[SourceDocument], budget: int, options: RenderOptions) -> list[RenderedDocument]:
        return [render_document(source, budget, options) for source in sources]

    def close(self) -> None:
        pass


RECYCLE_AFTER = 500  # documents a render worker renders before a fresh one takes its place


def release_memory() -> None:
    """What a worker gives back after a document: MuPDF's resource store (decoded images and
    fonts it keeps for reuse: a 25 MB scan leaves hundreds of MB there), Python's garbage, and the
    C heap's free pages (glibc keeps freed blocks in its arenas unless asked: malloc_trim)."""
    import gc

    import pymupdf

    pymupdf.TOOLS.store_shrink(100)
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


def render_and_release(render_fn: Callable[..., RenderedDocument], source: SourceDocument, budget: int,
                       options: RenderOptions) -> RenderedDocument:
    """One document in a worker, then what rendering it held given back (release_memory)."""
    try:
        return render_fn(source, budget, options)
    finally:
        release_memory()


class RenderPool:
    """`release`: each worker gives back what a document held once it is rendered (MuPDF's store,
    the C heap); `recycle_after`: a worker is replaced after this many documents (None: never).
    Measured in bench/render_memory.py."""

    def __init__(self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int | None = DEFAULT_MEMORY_MB,
                 render_fn: Callable[..., RenderedDocument] = render_document,
                 release: bool = True, recycle_after: int | None = RECYCLE_AFTER):
        import pebble

        self.render_fn = render_fn  # module-level, so workers can import it
        self.timeout = timeout
        self.release = release
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool = pebble.ProcessPool(
            max_workers=self.workers, max_tasks=recycle_after or 0, initializer=_limit_memory,
            initargs=(memory_mb * 1024 * 1024 if memory_mb else None,),
            context=multiprocessing.get_context("forkserver"),
        )
        self.memory_mb = memory_mb

    def render(self, sources: Sequence[SourceDocument], budget: int, options: RenderOptions) -> list[RenderedDocument]:
        import pebble

        futures = [
            self._pool.schedule(render_and_release, args=(self.render_fn, source, budget, options), timeout=self.timeout)
            if self.release else self._pool.schedule(self.render_fn, args=(source, budget, options), timeout=self.timeout)
            for source in sources
        ]
        results = []
        for source, future in zip(sources, futures):
            try:
                results.append(future.result())
            except concurrent.futures.TimeoutError:
                results.append(_failed(source, Category.TIMEOUT,
                    f"rendering took longer than {self.timeout:g} s (--render-timeout); the renderer was stopped"))
            except pebble.ProcessExpired as exc:
                results.append(_failed(source, Category.RENDER_ERROR,
                    f"the renderer crashed on this file (exit code {exc.exitcode})"))
            except MemoryError:
                results.append(_failed(source, Category.TOO_LARGE,
                    f"rendering needed more than {self.memory_mb} MB (--render-memory-mb)"))
            except Exception as exc:  # noqa: BLE001 - anything else fails this document alone
                results.append(_failed(source, Category.RENDER_ERROR, f"{type(exc).__name__}: {exc}"))
        return results

    def close(self) -> None:
        self._pool.stop()
        self._pool.join()


def make_renderer(workers: int, timeout: float, memory_mb: int | None) -> Renderer:
    return RenderPool(workers, timeout, memory_mb) if workers > 0 else InlineRenderer()


def _failed(source: SourceDocument, category: Category, message: str) -> RenderedDocument:
    return RenderedDocument(source, failure=Failure(Stage.RENDER, category, message))
