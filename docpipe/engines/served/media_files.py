"""Page images handed to a server on the same host as files, instead of inside the request.

vLLM reads `file://` image URLs under its `--allowed-local-media-path` folder (`docpipe
serve-model --media-dir`). A page is written there as a PPM file: the rendered pixels as they are,
with a 15-byte header, so the client pays a memory copy instead of an image encoder
(bench/served_client_cost.py measures both),
the request carries a path instead of ~150 KB of base64, and the server sees exactly the pixels
the in-process engine sees (JPEG changes a few).

A request writes into one of a few slots (a slot per request in flight) and overwrites its files
for the next request once its answer is in (the server has read them by then): overwriting costs
half of a new file's write on tmpfs, and a crashed run leaves no more than a file per slot, which
the next run's check removes.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
from pathlib import Path

from PIL.Image import Image

from docpipe.core.errors import ModelNotAvailable

FILE_NAME = re.compile(r"docpipe-(\d+)-\d+-\d+\.ppm")


class MediaFolder:
    def __init__(self, path: Path):
        self.path = Path(path).expanduser().resolve()
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._numbers = itertools.count(1)  # next() on it is atomic: no two requests share a slot

    def check(self) -> None:
        """The folder exists and docpipe can write to it (ModelNotAvailable says how to fix it);
        files left by docpipe processes that are gone are removed."""
        if not self.path.is_dir():
            raise ModelNotAvailable(f"--media-dir {self.path} is not a folder: give the folder the server was "
                                    "started with (`docpipe serve-model --media-dir`), or leave --media-dir out")
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise ModelNotAvailable(f"--media-dir {self.path} is not writable by this user")
        for path in self.path.iterdir():
            match = FILE_NAME.fullmatch(path.name)
            if match and not _alive(int(match.group(1))):
                path.unlink(missing_ok=True)

    def take(self) -> int:
        """A free slot for one request's pages; give it back with `give`."""
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return next(self._numbers)

    def give(self, slot: int) -> None:
        self._free.put(slot)

    def write(self, slot: int, index: int, image: Image) -> Path:
        """Page `index` of the request in `slot`, as a PPM file (PGM for a grey page)."""
        picture = image if image.mode in ("RGB", "L") else image.convert("RGB")
        path = self.path / f"docpipe-{os.getpid()}-{slot}-{index}.ppm"
        with open(path, "r+b" if path.exists() else "wb") as sink:
            # streamed in 64 KB pieces: Image.tobytes would first build the whole 1.8 MB, and
            # fresh memory of that size costs more in page faults than the copy itself
            picture.save(sink, format="PPM")
            sink.truncate()
        return path

    @staticmethod
    def url(path: Path) -> str:
        return path.as_uri()

    def remove_all(self) -> None:
        """This process's files (the engine is closed)."""
        for path in self.path.glob(f"docpipe-{os.getpid()}-*.ppm"):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
