"""Renderers that misbehave, for the isolation tests (module level, so worker processes import them)."""

from __future__ import annotations

import os
import signal
import time


def hang(source, budget, options):
    time.sleep(600)


def crash(source, budget, options):
    os.kill(os.getpid(), signal.SIGSEGV)


def hog(source, budget, options):
    return bytearray(64 * 1024**3)  # 64 GiB: beyond any render worker's memory limit
