"""Every exception docpipe defines has one root, and says whether trying again can help: terminal
(fix the input or the setting) or transient (it may pass), so a caller catches docpipe's failures
with one `except` and knows which to retry."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import docpipe
from docpipe.core.errors import DocpipeException, TerminalError, TransientError


def _defined_exceptions() -> list[type]:
    found = []
    for module in pkgutil.walk_packages(docpipe.__path__, "docpipe."):
        if module.name.startswith(("docpipe.flows", "docpipe.schema.builtin")):
            continue  # Prefect's (tested with the flows), and data
        loaded = importlib.import_module(module.name)
        found += [obj for _, obj in inspect.getmembers(loaded, inspect.isclass)
                  if issubclass(obj, BaseException) and obj.__module__ == module.name]
    return found


def test_every_exception_is_terminal_or_transient_under_one_root():
    exceptions = _defined_exceptions()
    assert len(exceptions) >= 12  # DocpipeError, LeaseLost, SchemaEdited, EngineUnreachable, ...
    for exc in exceptions:
        if exc in (DocpipeException, TerminalError, TransientError):
            continue
        assert issubclass(exc, DocpipeException), exc
        assert issubclass(exc, TerminalError) != issubclass(exc, TransientError), exc
