"""Keep the finished home page and database page in memory.

Both pages are built from dozens of small introspection queries (tables, columns,
keys, counts) that queue one after another behind other visitors' queries in the
SQL thread pool; under load that made them wait for seconds. The database is
immutable and the site does not change while the process runs, so the answer to a
plain GET of these pages is always the same: build it once per Accept-Encoding
and serve the stored bytes.

The store belongs to the Datasette instance, not to one ASGI app, so `prestatieafspraken serve`
can fill it through `datasette.client` before the first visitor arrives (loaders/server.py): even
the first request for these pages, in a flood, is answered from memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from loaders.site import DATABASE, ASGIApp, Message, Receive, Scope, Send

CACHED_PATHS = {"/", f"/{DATABASE}"}
_stores: weakref.WeakKeyDictionary[Any, dict[tuple[str, bytes], list[Message]]] = weakref.WeakKeyDictionary()



def _accept_encoding(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name.lower() == b"accept-encoding":
            return b"gzip" if b"gzip" in value else b""
    return b""


def wrap(app: ASGIApp, pages: dict[tuple[str, bytes], list[Message]]) -> ASGIApp:

    async def cached(scope: Scope, receive: Receive,
                     send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") != "GET" or scope.get("query_string")
                or scope.get("path") not in CACHED_PATHS):
            await app(scope, receive, send)
            return
        # A conditional request is left to the layers that answer it (304).
        if any(name.lower() == b"if-none-match" for name, _ in scope.get("headers", [])):
            await app(scope, receive, send)
            return
        key = (scope["path"], _accept_encoding(scope))
        if key in pages:
            for message in pages[key]:
                await send(message)
            return
        recorded: list[Message] = []

        async def recording_send(message: Message) -> None:
            recorded.append(message)
            await send(message)

        await app(scope, receive, recording_send)
        start = recorded[0] if recorded else {}
        headers = {name.lower() for name, _ in start.get("headers", [])}
        if start.get("status") == 200 and b"set-cookie" not in headers:
            pages[key] = recorded

    return cached


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    pages = _stores.setdefault(datasette, {})
    return lambda app: wrap(app, pages)
