"""Which failures a chunk is retried for: an engine that could not be reached, nothing else.

The served engine retries each request itself (engines/served/openai_server.py) and moves requests to
the servers it can reach; when none is left it raises EngineUnreachable, which Prefect's task
retry catches here and runs the chunk again after 2, 4, 8... seconds.

A corrupt file, a bad answer or a chunk over its time limit is never retried (the first two are
recorded per document; the third stops the run). Out-of-GPU-memory is handled inside the engine
(the batch halves), so it never reaches here.
"""

from __future__ import annotations

from typing import Any


def engine_unreachable(exc: BaseException) -> bool:
    """True for an exception (or its cause) saying the engine could not be reached: the served
    engine's EngineUnreachable, or a connection error of an engine of the caller's."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ConnectionError):  # EngineUnreachable is one; so are refused and reset
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def retry_when_unreachable(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only when the engine was unreachable."""
    try:
        state.result()
    except BaseException as exc:  # noqa: BLE001 -- the failed task's exception, inspected
        return engine_unreachable(exc)
    return False


BACKOFF_CAP = 15.0  # seconds: a server restarting for minutes is tried again this often


def backoff(retries: int) -> list[float]:
    """2, 4, 8, then 15 seconds between attempts."""
    return [min(BACKOFF_CAP, 2.0 * 2**i) for i in range(retries)]
