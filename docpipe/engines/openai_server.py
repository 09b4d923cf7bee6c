"""Talking to OpenAI-compatible servers: their addresses, the API key, the start check, and one
request with back-off and retry.

The API key is read from the environment (API_KEY_ENV) when a request is made; it is never a
setting, so it never reaches the runs table or a log line.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from docpipe.core.errors import ModelNotAvailable

API_KEY_ENV = "DOCPIPE_API_KEY"
RETRY_STATUS = {429, 502, 503, 504}
# requests kept in flight per server unless --max-in-flight says: twice serve-model's default
# --max-num-seqs (128), so the server's scheduler always has the next requests queued (vLLM does
# not publish its max-num-seqs outside its development mode, so the client cannot ask it)
DEFAULT_IN_FLIGHT = 256


def api_url(base_url: str) -> str:
    """`http://host:port`, `.../v1` or `.../v1/` -> `http://host:port/v1`."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"--base-url must start with http:// or https://, got {base_url!r}")
    return base if base.endswith("/v1") else base + "/v1"


def headers() -> dict[str, str]:
    key = os.environ.get(API_KEY_ENV)
    return {"Authorization": f"Bearer {key}"} if key else {}


@dataclass(frozen=True)
class ServerInfo:
    url: str  # the /v1 address
    model: str  # the model it serves under the name docpipe asks for
    max_in_flight: int  # requests docpipe keeps in flight on it


class RequestFailed(Exception):
    """A request that failed for good (after its retries): its message goes to the errors table."""


def _served_models(client: httpx.Client, url: str) -> list[str]:
    try:
        response = client.get(f"{url}/models", headers=headers(), timeout=10)
    except httpx.HTTPError as exc:
        raise ModelNotAvailable(
            f"no OpenAI-compatible server answers at {url} ({type(exc).__name__}: {exc}). Start one with "
            "`docpipe serve-model MODEL` and pass the --base-url it prints, or run with --engine transformers."
        ) from None
    if response.status_code == 401:
        raise ModelNotAvailable(f"the server at {url} refused the API key: set {API_KEY_ENV} to the key it was started with")
    if response.status_code != 200:
        raise ModelNotAvailable(f"the server at {url} answered /models with HTTP {response.status_code}: {response.text[:200]}")
    return [entry["id"] for entry in response.json().get("data", [])]


def check_servers(base_urls: tuple[str, ...], model: str | None, max_in_flight: int | None) -> list[ServerInfo]:
    """Every server answers and serves `model` (or, without one, they all serve the same single
    model), or ModelNotAvailable says which does not."""
    if not base_urls:
        raise ModelNotAvailable("--engine openai needs --base-url (the address `docpipe serve-model` prints)")
    servers = []
    with httpx.Client() as client:
        for base in base_urls:
            url = api_url(base)
            served = _served_models(client, url)
            name = model if model is not None else (served[0] if len(served) == 1 else None)
            if name is None or name not in served:
                wanted = f"--model {model!r}" if model else "one model (give --model to choose)"
                raise ModelNotAvailable(f"the server at {url} serves {', '.join(served) or 'no model'}, not {wanted}")
            if servers and name != servers[0].model:
                raise ModelNotAvailable(f"the servers serve different models ({servers[0].model}, {name}): give --model")
            limit = max_in_flight or DEFAULT_IN_FLIGHT
            servers.append(ServerInfo(url, name, limit))
    return servers


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    first_wait: float = 0.5  # seconds; doubled each time, with jitter
    timeout: float = 600.0  # seconds to wait for one answer (a SIGTERMed server may never answer)


def post_with_retry(client: httpx.Client, url: str, body: dict[str, Any], retry: Retry) -> dict[str, Any]:
    """POST a chat completion; retry on 429/502/503/504, a retryable 500 and a lost connection."""
    message = ""
    for attempt in range(retry.attempts):
        if attempt:
            time.sleep(retry.first_wait * 2 ** (attempt - 1) * (0.5 + random.random()))
        try:
            response = client.post(f"{url}/chat/completions", content=orjson.dumps(body),
                                   headers={**headers(), "Content-Type": "application/json"}, timeout=retry.timeout)
        except httpx.ReadTimeout as exc:  # the server took the request and never answered: not again
            raise RequestFailed(f"{url}: no answer within {retry.timeout:.0f} s ({exc})") from None
        except httpx.TransportError as exc:  # refused, reset, closed early
            message = f"{url}: {type(exc).__name__}: {exc}"
            continue
        if response.status_code == 200:
            return orjson.loads(response.content)
        message = f"{url}: HTTP {response.status_code}: {response.text[:300]}"
        if response.status_code in RETRY_STATUS or (response.status_code == 500 and "retry" in response.text.lower()):
            continue
        break
    raise RequestFailed(message)
