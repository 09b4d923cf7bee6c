"""Which failures a chunk is retried for: an engine that could not be reached, nothing else.

A corrupt file, a bad answer or a chunk over its time limit is never retried (the first two are
recorded per document; the third stops the run). Out-of-GPU-memory is handled inside the engine
(the batch halves), so it never reaches here.
"""

from __future__ import annotations

from typing import Any

UNREACHABLE = frozenset({
    "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",  # builtins (OSError)
    "ConnectError", "RemoteProtocolError", "ReadError", "ConnectTimeout",  # httpx
    "NewConnectionError", "ProtocolError", "ConnectTimeoutError",  # urllib3 (the served engine)
    "APIConnectionError",  # openai
})


def engine_unreachable(exc: BaseException) -> bool:
    """True for an exception (or its cause) saying the engine could not be reached."""
    seen = 0
    while exc is not None and seen < 5:
        if any(kind.__name__ in UNREACHABLE for kind in type(exc).__mro__):
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


def backoff(retries: int) -> list[float]:
    """2, 4, 8, ... seconds between attempts."""
    return [2.0 * 2**i for i in range(retries)]
