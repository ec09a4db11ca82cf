"""HTTP caching: the database is immutable, so a successful response stays valid until the next release.

Every 200 answer to GET or HEAD gets `Cache-Control: public, max-age=86400` and a weak ETag made of the
data version (table build_info, key data_version, for people to read) and a digest of the complete build output
and of every file the server reads: build/ (the database's bytes, so a changed view or anything else the loader
writes counts, not only the CSVs; the generated metadata.json with the saved questions, and inspect.json), the
site's files (plugins, templates, settings, charts.yml, publication.yaml, datapackage.yaml, queries/, loaders/),
the base URL and the installed versions. Any change anywhere changes every ETag. A request
whose `If-None-Match` carries the current ETag gets `304 Not Modified` without running any query: a browser
or a caching proxy (nginx, a CDN) revalidates for the price of a header. URLs do not change. The 304 is
answered before Datasette runs: sound because a client only holds this ETag for a URL that answered 200 with
it, and with the same data and the same site that URL answers the same.

Not made cacheable: error responses (4xx/5xx lose any Cache-Control and ETag), responses that set a
cookie, responses that already carry their own ETag (chart images) and responses Datasette marks
`no-cache`/`no-store`/`private` (e.g. `?_ttl=0`). The ETag is weak (`W/`) because the same page is sent
gzip-compressed or not (plugins/compression.py); both are the same content.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from loaders.fingerprint import site_fingerprint
from loaders.site import ASGIApp, Message, Receive, Scope, Send

MAX_AGE = 86_400
CACHE_CONTROL = f"public, max-age={MAX_AGE}".encode()
UNCACHEABLE = (b"no-cache", b"no-store", b"private")
CACHE_HEADERS = {b"cache-control", b"etag", b"expires", b"last-modified"}
_etags: weakref.WeakKeyDictionary[Any, bytes | None] = weakref.WeakKeyDictionary()



async def data_versions(datasette: Any) -> str | None:
    """The data version of every database, or None when one is mutable or has no build_info."""
    versions = []
    for name, db in sorted(datasette.databases.items()):
        if name.startswith("_"):
            continue
        if db.is_mutable or not await db.table_exists("build_info"):
            return None
        rows = await db.execute("select value from build_info where key = 'data_version'")
        if not rows.rows:
            return None
        versions.append(rows.rows[0][0])
    return "-".join(versions) or None


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    opaque = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == opaque for tag in if_none_match.split(b","))


def caching_headers(etag: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"cache-control", CACHE_CONTROL), (b"etag", etag), (b"vary", b"Accept-Encoding")]


def wrap(app: ASGIApp, datasette: Any) -> ASGIApp:
    fingerprint = site_fingerprint(datasette)
    pending: list[asyncio.Task[bytes | None]] = []

    async def compute() -> bytes | None:
        version = await data_versions(datasette)
        etag = f'W/"{version}-{fingerprint}"'.encode() if version else None
        _etags[datasette] = etag
        return etag

    async def current_etag() -> bytes | None:
        # Once per process (the database never changes), and once only even when the first
        # visitors arrive together: they all wait for the same query instead of queueing 200 of them.
        if datasette in _etags:
            return _etags[datasette]
        if not pending:
            pending.append(asyncio.ensure_future(compute()))
        return await pending[0]

    async def cached(scope: Scope, receive: Receive,
                     send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        etag = await current_etag()
        if etag is None:
            await app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        if_none_match = request_headers.get(b"if-none-match")
        if if_none_match and matches(if_none_match, etag):
            await send({"type": "http.response.start", "status": 304, "headers": caching_headers(etag)})
            await send({"type": "http.response.body", "body": b""})
            return

        async def caching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if status >= 400:
                    headers = [(k, v) for k, v in headers if k.lower() not in CACHE_HEADERS]
                elif status == 200 and b"set-cookie" not in names and b"etag" not in names and not any(
                        k.lower() == b"cache-control" and any(u in v.lower() for u in UNCACHEABLE)
                        for k, v in headers):
                    vary = [t.strip() for k, v in headers if k.lower() == b"vary" for t in v.split(b",")]
                    headers = [(k, v) for k, v in headers if k.lower() not in {b"cache-control", b"vary"}]
                    headers += caching_headers(etag)[:2]
                    tokens = {t.lower(): t for t in [*vary, b"Accept-Encoding"] if t}
                    headers.append((b"vary", b", ".join(tokens.values())))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, caching_send)

    return cached


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: wrap(app, datasette)
