"""Talking to OpenAI-compatible servers: their addresses, the API key, the start check, and one
request with back-off and retry.

HTTP goes through urllib3's connection pools (one per server, a kept-alive connection per request
in flight): about 0.9-1.0 CPU ms per request against httpx's 1.7-1.8 on the same requests
(bench/http_client_cost.py), which matters when two cores feed a GPU server hundreds of pages a
second (bench/served_client_cost.py).

The API key is read from the environment (API_KEY_ENV) when a request is made; it is never a
setting, so it never reaches the runs table or a log line.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import urllib3
from PIL import Image
from urllib3.exceptions import HTTPError, ProtocolError, ReadTimeoutError

from docpipe.core.errors import ModelNotAvailable, TerminalError
from docpipe.engines.served.media_files import MediaFolder

API_KEY_ENV = "DOCPIPE_API_KEY"
RETRY_STATUS = {429, 502, 503, 504}
# requests in flight per server at first, unless --max-in-flight says: twice serve-model's default
# --max-num-seqs (128); then the window follows the server's own limit (engines/served/in_flight.py)
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
    max_in_flight: int  # requests docpipe keeps in flight on it (at first, unless fixed)
    fixed_in_flight: bool = False  # --max-in-flight given: no adjusting to the server's load


class RequestFailed(TerminalError):
    """A request that failed for good (after its retries): its message goes to the errors table."""


class ServerUnreachable(RequestFailed):
    """A request whose last attempt found no server (refused, reset, closed early): the server is
    down or restarting, and the request is for another server or a later attempt."""


def connection_pool(url: str, size: int) -> urllib3.HTTPConnectionPool:
    """Kept-alive connections to the server at `url`: up to `size` at once (a request waits for a
    free one rather than opening more)."""
    return urllib3.connection_from_url(url, maxsize=max(1, size), block=True, retries=False)


def _served_models(pool: urllib3.HTTPConnectionPool, url: str) -> list[str]:
    try:
        response = pool.request("GET", f"{url}/models", headers=headers(), timeout=10.0)
    except HTTPError as exc:
        raise ModelNotAvailable(
            f"no OpenAI-compatible server answers at {url} ({type(exc).__name__}: {exc}). Start one with "
            "`docpipe serve-model MODEL` and pass the --base-url it prints, or run with --engine transformers."
        ) from None
    if response.status == 401:
        raise ModelNotAvailable(f"the server at {url} refused the API key: set {API_KEY_ENV} to the key it was started with")
    if response.status != 200:
        raise ModelNotAvailable(f"the server at {url} answered /models with HTTP {response.status}: {_text(response)[:200]}")
    return [entry["id"] for entry in orjson.loads(response.data).get("data", [])]


def _text(response: urllib3.BaseHTTPResponse) -> str:
    return response.data.decode("utf-8", errors="replace")


def check_servers(base_urls: tuple[str, ...], model: str | None, max_in_flight: int | None,
                  media_dir: Path | None = None) -> list[ServerInfo]:
    """Every server answers and serves `model` (or, without one, they all serve the same single
    model), and with `media_dir` reads page files from it, or ModelNotAvailable says which does not."""
    if not base_urls:
        raise ModelNotAvailable("--engine openai needs --base-url (the address `docpipe serve-model` prints)")
    media = MediaFolder(media_dir) if media_dir is not None else None
    if media is not None:
        media.check()
    servers = []
    for base in base_urls:
        url = api_url(base)
        with connection_pool(url, 1) as pool:
            served = _served_models(pool, url)
            name = model if model is not None else (served[0] if len(served) == 1 else None)
            if name is None or name not in served:
                wanted = f"--model {model!r}" if model else "one model (give --model to choose)"
                raise ModelNotAvailable(f"the server at {url} serves {', '.join(served) or 'no model'}, not {wanted}")
            if servers and name != servers[0].model:
                raise ModelNotAvailable(f"the servers serve different models ({servers[0].model}, {name}): give --model")
            if media is not None:
                _check_reads_files(pool, url, name, media)
            servers.append(ServerInfo(url, name, max_in_flight or DEFAULT_IN_FLIGHT, max_in_flight is not None))
    return servers


def _check_reads_files(pool: urllib3.HTTPConnectionPool, url: str, model: str, media: MediaFolder) -> None:
    """One tiny request with a page file: the server must read it (vLLM only reads files under its
    --allowed-local-media-path, on its own host)."""
    slot = media.take()
    path = media.write(slot, 0, Image.new("RGB", (224, 224), "white"))
    body = {"model": model, "max_tokens": 1, "temperature": 0.0,
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": MediaFolder.url(path)}},
                                                      {"type": "text", "text": "."}]}],
            "mm_processor_kwargs": {"max_soft_tokens": 70}}
    try:
        post_with_retry(pool, url, body, Retry(attempts=2, timeout=120.0))
    except RequestFailed as exc:
        raise ModelNotAvailable(
            f"the server at {url} does not read page files from {media.path} ({exc}). Start it on this host with "
            f"`docpipe serve-model MODEL --media-dir {media.path}` (vLLM's --allowed-local-media-path), "
            "or run without --media-dir to send the pages inside the requests."
        ) from None
    finally:
        path.unlink(missing_ok=True)
        media.give(slot)


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    first_wait: float = 0.5  # seconds; doubled each time, with jitter
    timeout: float = 600.0  # seconds to wait for one answer (a SIGTERMed server may never answer)


def post_with_retry(pool: urllib3.HTTPConnectionPool, url: str, body: dict[str, Any], retry: Retry) -> dict[str, Any]:
    """POST a chat completion; retry on 429/502/503/504, a retryable 500 and a lost connection.

    Raises ServerUnreachable when the last attempt could not reach the server, RequestFailed for
    any other failure. (urllib3's own Retry cannot say this: it counts a connection reset while
    the answer is awaited -- a killed server -- and a read timeout -- a server still busy with the
    request, never to be sent twice -- as one kind of error, and it cannot read a 500's body.)"""
    message, payload, unreachable = "", orjson.dumps(body), False
    timeout = urllib3.Timeout(connect=10.0, read=retry.timeout)
    for attempt in range(retry.attempts):
        if attempt:
            # jitter from a generator of its own: the global `random` state is the caller's (and
            # Hypothesis reports a thread that moves it while a strategy draws)
            time.sleep(retry.first_wait * 2 ** (attempt - 1) * (0.5 + random.Random().random()))
        try:
            response = pool.urlopen("POST", f"{url}/chat/completions", body=payload, timeout=timeout,
                                    headers={**headers(), "Content-Type": "application/json"})
        except ReadTimeoutError as exc:  # the server took the request and never answered: not again
            raise RequestFailed(f"{url}: no answer within {retry.timeout:.0f} s ({exc})") from None
        except (HTTPError, ProtocolError, OSError) as exc:  # refused, reset, closed early
            message, unreachable = f"{url}: {type(exc).__name__}: {exc}", True
            continue
        unreachable = False
        if response.status == 200:
            return orjson.loads(response.data)
        text = _text(response)
        message = f"{url}: HTTP {response.status}: {text[:300]}"
        if response.status in RETRY_STATUS or (response.status == 500 and "retry" in text.lower()):
            continue
        break
    raise (ServerUnreachable if unreachable else RequestFailed)(message)
