"""The chat turns of a request, the same for both engines: a system turn with the task's
instructions (when the request has any), then a user turn with the page images and the short ask.

The instructions come first so that every request of a schema starts with the same tokens: a
server's prefix cache (vLLM's automatic prefix caching matches from the first token) then computes
them once, not once per page; the images still come before the question.
"""

from __future__ import annotations

from typing import Any

from docpipe.core.types import ModelRequest


def system_turn(request: ModelRequest) -> list[dict[str, Any]]:
    """The request's instructions as a system turn (none when it has none)."""
    return [{"role": "system", "content": request.instructions}] if request.instructions else []
