"""A process group that cannot outlive the process that started it, however that process ends.

A server docpipe starts in a process group of its own (vLLM: an API server and engine processes
that outlive it) would be left running, holding its port and GPU, when its starter is killed with
SIGKILL: a killed process runs no clean-up. So a small guard process is started beside the group,
reading a pipe whose only writer is the starter. The kernel closes the pipe when the starter ends,
for any reason; the guard then stops the group: SIGTERM, and SIGKILL for what is left after a grace
period. A starter that stops the group itself first says so on the pipe (`release`), and the guard
exits without signalling anything (the group's id may be reused by then).

Run as `python -m docpipe.core.group_guard GROUP GRACE_SECONDS` with the pipe on its stdin.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

RELEASED = b"released"


@dataclass
class GroupGuard:
    """The starter's end of a guard: keep it open as long as the group should live."""

    process: subprocess.Popen
    pipe: int  # the write end: closed by the kernel when the starter dies

    def release(self) -> None:
        """The starter stopped the group itself: the guard exits without signalling it."""
        if self.pipe < 0:
            return
        try:
            os.write(self.pipe, RELEASED)
        except OSError:
            pass  # the guard is gone already
        os.close(self.pipe)
        self.pipe = -1
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def guard_group(group: int, grace: float = 20.0) -> GroupGuard:
    """Start a guard that stops process group `group` once this process ends without releasing it."""
    read_end, write_end = os.pipe()  # not inherited by other children (Python's fds are non-inheritable)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "docpipe.core.group_guard", str(group), str(grace)],
            stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C or a closed terminal reaches the starter, not the guard
        )
    finally:
        os.close(read_end)
    return GroupGuard(process, write_end)


def signal_group(group: int, sig: signal.Signals) -> bool:
    """Send `sig` to the group; False when no process of it is left."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process we may not signal (a zombie being reaped, another user): still there
    return True


def stop_group(group: int, grace: float) -> None:
    """SIGTERM the group, wait up to `grace` seconds for it to end, then SIGKILL what is left."""
    if not signal_group(group, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not signal_group(group, 0):
            return
        time.sleep(0.2)
    signal_group(group, signal.SIGKILL)


def _main(argv: list[str]) -> None:
    group, grace = int(argv[0]), float(argv[1])
    said = sys.stdin.buffer.read()  # returns when the starter closes the pipe: by release() or by dying
    if said != RELEASED:
        stop_group(group, grace)


if __name__ == "__main__":
    _main(sys.argv[1:])
