"""What keeps the review page to its reviewer (Jupyter's model): an ASGI middleware in front of
every route.

- A random token per start. The URL `docpipe review` prints carries it once (`?token=`); the page
  answers with a cookie holding it (HttpOnly, SameSite=Strict, named after the port: cookies do
  not tell ports apart) and sends the browser on without it. Every request needs the cookie, or
  the token in an `Authorization: token ...` header (scripts). Compared in constant time.
- The Host header must name the address the page listens on (127.0.0.1, localhost or [::1] and
  its port, on loopback): a DNS-rebinding page, whose requests say `Host: attacker.example`, is
  refused even before the token is looked at.
- A write (any method but GET and HEAD) must be JSON (`Content-Type: application/json`: a
  cross-site form cannot send it without a CORS preflight, which is never answered), carry the
  page's CSRF token in `X-Docpipe-Csrf` (another page, even one on another port of 127.0.0.1,
  which the reviewer's cookie follows, cannot read it) or the token itself in `Authorization`,
  and, where the browser says where it comes from (`Origin`, `Sec-Fetch-Site`), come from this
  page's own origin.
- Every answer forbids framing (a hidden frame cannot take the reviewer's keystrokes), scripts and
  styles but the page's own files, caching, and sending the address on (Referrer-Policy).

A refusal is 403 with one line saying why; nothing behind it runs.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_HEADER = "x-docpipe-csrf"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
HEADERS = {
    # boxes are placed by style attributes (inline styles are not scripts); forms are the queue's GET filters
    "content-security-policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "style-src-attr 'unsafe-inline'; img-src 'self'; connect-src 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def loopback_hosts(port: int) -> frozenset[str]:
    """The Host headers a browser sends to a page on this machine's loopback at `port`."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK)


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Guard:
    """`hosts`: the Host headers accepted (None: any, for a page served on purpose to other
    machines, where the token alone decides)."""

    def __init__(self, app: ASGIApp, token: str, csrf: str, cookie: str, hosts: Iterable[str] | None):
        self.app, self.token, self.csrf, self.cookie = app, token, csrf, cookie
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        refusal = self._refusal(scope, headers, query)
        if refusal is not None:
            await _answer(send, 403, refusal.encode(), [(b"content-type", b"text/plain; charset=utf-8")])
            return
        if "token" in query:  # the printed URL: keep the token as a cookie, drop it from the address bar
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            where = scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{self.cookie}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            await _answer(send, 303, b"", [(b"location", where.encode("latin-1")), (b"set-cookie", cookie.encode())])
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    response_headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(self, scope: Scope, headers: dict[str, str], query: dict[str, str]) -> str | None:
        host = headers.get("host", "").lower()
        if self.hosts is not None and host not in self.hosts:
            return (f"refused: this page answers to {', '.join(sorted(self.hosts))}, not to Host {host!r} "
                    "(a page elsewhere that points its own name at this machine)")
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is no cookie
            cookies = SimpleCookie()
        by_cookie = self.cookie in cookies and same(cookies[self.cookie].value, self.token)
        authorization = headers.get("authorization", "")
        by_header = authorization.lower().startswith("token ") and same(authorization[6:].strip(), self.token)
        if "token" in query and not same(query["token"], self.token):
            return "refused: this token is not the one `docpipe review` printed at its start"
        if not (by_cookie or by_header or "token" in query):
            return ("refused: open the address `docpipe review` printed (it carries the token once); "
                    "a script passes the token in an 'Authorization: token ...' header")
        if scope["method"] in SAFE_METHODS:
            return None
        return self._write_refusal(host, headers, by_header)

    def _write_refusal(self, host: str, headers: dict[str, str], by_header: bool) -> str | None:
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return f"refused: a write must be JSON (Content-Type application/json), not {media or 'no type'!r}"
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in (f"http://{host}", f"https://{host}"):
            return f"refused: a write from another origin ({origin})"
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"refused: a write from another site ({site})"
        if not (by_header or same(headers.get(CSRF_HEADER), self.csrf)):
            return "refused: a write must carry this page's CSRF token (X-Docpipe-Csrf)"
        return None


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, *extra, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
