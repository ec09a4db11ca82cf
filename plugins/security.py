"""Security for a public, read-only site: only reading methods, strict headers, no internals in responses.

- GET, HEAD and OPTIONS only: anything else gets a clean 405 (Datasette 0.65 answers a
  POST to a read-only saved query with a 500 and a traceback in the log).
- Content-Security-Policy that allows nothing from another origin. Scripts need
  'unsafe-inline' (Datasette's own inline scripts) and 'unsafe-eval' (Vega compiles
  chart expressions); both are still limited to this origin.
- Only chart embed pages may be framed, by any site; every other page by none.
- Debug pages that reveal threads or file paths are not served, and a server error
  never shows its message, which could hold a path or a stack trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from loaders.site import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = {"GET", "HEAD", "OPTIONS"}
EMBED_PATH = re.compile(r"^/-/charts/[a-z0-9-]+/embed$")
HIDDEN_PATHS = re.compile(r"^/-/(threads|databases|permissions|allow-debug|messages|actor)(\.json)?$")
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors {frame}")
GENERIC_ERROR = (b"<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Fout / Error</title></head>"
                 b"<body><h1>Er ging iets mis / Something went wrong</h1><p>Probeer het later opnieuw. "
                 b"<em>Please try again later.</em></p><p><a href=\"/\">Home</a></p></body></html>")



def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    embed = bool(EMBED_PATH.match(path))
    headers = [
        (b"content-security-policy", CSP.format(frame="*" if embed else "'none'").encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if not embed:
        headers.append((b"x-frame-options", b"DENY"))
    return headers


async def _plain(send: Send, status: int, body: bytes, path: str,
                 extra: list[tuple[bytes, bytes]] | None = None, content_type: bytes = b"text/plain; charset=utf-8"
                 ) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
               *security_headers(path), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wrap(app: ASGIApp) -> ASGIApp:
    async def secured(scope: Scope, receive: Receive,
                      send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope.get("method", "GET") not in ALLOWED_METHODS:
            await _plain(send, 405, b"Deze site is alleen-lezen / This site is read-only\n", path,
                         [(b"allow", b"GET, HEAD, OPTIONS")])
            return
        if HIDDEN_PATHS.match(path):
            await _plain(send, 404, b"Niet gevonden / Not found\n", path)
            return
        failed = False

        async def guarded_send(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                if message["status"] >= 500:
                    failed = True
                    await _plain(send, message["status"], GENERIC_ERROR, path,
                                 content_type=b"text/html; charset=utf-8")
                    return
                names = {name.lower() for name, _ in security_headers(path)}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + security_headers(path)}
            elif failed:
                return  # the generic error body has been sent already
            await send(message)

        await app(scope, receive, guarded_send)

    return secured


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    return wrap
