"""A uvicorn server that says where it listens once it does: the review page's address is printed
after the socket is bound and uvicorn's Ctrl-C handling is in place, so the address always works
and a Ctrl-C from then on always stops it (printed before, a Ctrl-C between the two went to
Python's default handler at a moment where it was lost, and the page served on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn


class AnnouncedServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]):
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self.announce()


def serve_announced(app: Any, host: str, port: int, announce: Callable[[], None]) -> None:
    """Serve `app` until Ctrl-C (or SIGTERM); `announce()` once it listens."""
    AnnouncedServer(uvicorn.Config(app, host=host, port=port, log_level="warning"), announce).run()
