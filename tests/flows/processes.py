"""Processes of a test, through psutil: who descends from whom, who is still alive."""

from __future__ import annotations

import time

import psutil


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def descendants(pid: int) -> set[int]:
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    """The pids still alive after waiting up to `seconds` for them to end (a zombie is gone: its
    parent may be one that never reaps, which psutil.wait_procs would wait on to the end)."""
    deadline = time.monotonic() + seconds
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def stop(pids: set[int]) -> None:
    """SIGKILL each of `pids` still alive (a test's clean-up, by PID)."""
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass
