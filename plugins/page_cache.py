"""Keep finished pages in memory: the home and database pages always, any other page in a bounded LRU store.

The database is immutable and the site does not change while the process runs, so the answer to a plain GET of
a URL is always the same: it is built once per URL, host and Accept-Encoding, and the stored bytes are served
after that.

- The home page and the database page are built from dozens of small introspection queries that, under load,
  queued for seconds behind other visitors' queries; they are kept for the life of the process, and
  `prestatieafspraken serve` fills them through `datasette.client` before the first visitor arrives
  (loaders/server.py).
- Every other successful GET of the database's pages (table, row and query pages, JSON, facets) and of the site
  search (/-/zoeken, the most expensive page a visitor can ask for by typing a word) goes into a store
  bounded by MAX_BYTES in total and MAX_ENTRY_BYTES per answer, least recently used out first. A streamed answer
  (`_stream`, downloads) or a large one is not kept; neither is an error, a redirect or an answer that sets a
  cookie.
- A request with `Cache-Control: no-cache` (a browser's reload, or the benchmark's uncached measurement) is
  computed in full and not served from the store; so is a conditional request (If-None-Match), which the layers
  outside answer with 304.
- One answer per URL at a time: while a page is being built, other requests for the same key wait for it and are
  sent the same bytes, so a burst of visitors (or a script) on one expensive URL costs one computation, not one
  per request (what nginx's `proxy_cache_lock` does in front). That holds for an error too (a query over the time
  limit), which is sent to the requests that waited but not kept for later ones; an answer too large to hold is
  computed by each waiting request itself; if the first client left before its answer was done, one of the
  waiting requests builds it instead. The waiting requests get the answer once it is made, not once the first
  client has read it, so a client that reads slowly cannot hold them.

The store belongs to the Datasette instance, not to one ASGI app.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from loaders.site import DATABASE, SEARCH_PATH, ASGIApp, Message, Receive, Scope, Send

PINNED_PATHS = {"/", f"/{DATABASE}"}
MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 2 * 1024 * 1024
Key = tuple[str, bytes, bytes, bytes]


class Store:
    """Pinned pages, and an LRU of other pages bounded by the bytes of their bodies and headers."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self.pinned: dict[Key, list[Message]] = {}
        self.lru: OrderedDict[Key, tuple[list[Message], int]] = OrderedDict()
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.bytes = 0
        # The answers being built now (one builder per key; other requests for it wait).
        self.building: dict[Key, Flight] = {}

    def get(self, key: Key) -> list[Message] | None:
        if key in self.pinned:
            return self.pinned[key]
        if key in self.lru:
            self.lru.move_to_end(key)
            return self.lru[key][0]
        return None

    def put(self, key: Key, messages: list[Message]) -> None:
        if key[0] in PINNED_PATHS and not key[1]:
            self.pinned[key] = messages
            return
        size = sum(len(m.get("body", b"")) + sum(len(n) + len(v) for n, v in m.get("headers", []))
                   for m in messages)
        if size > self.max_entry_bytes or key in self.lru:
            return
        self.lru[key] = (messages, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self.lru.popitem(last=False)
            self.bytes -= dropped


class Flight:
    """An answer being built: `done` is set when its builder stops, `completed` if it ran to the end."""

    # Not a dataclass: Datasette loads plugins/ without registering the module, which dataclasses need.
    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.completed = False
        # The answer as it was sent, for the requests that waited for it; None when it was too large to hold.
        self.answer: list[Message] | None = None


_stores: weakref.WeakKeyDictionary[Any, Store] = weakref.WeakKeyDictionary()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _key(scope: Scope) -> Key:
    encoding = b"gzip" if b"gzip" in (_header(scope, b"accept-encoding") or b"") else b""
    query = scope.get("query_string") or b""
    if scope["path"] in PINNED_PATHS and not query:
        return (scope["path"], b"", b"", encoding)  # built once, whatever Host the first visitor sent
    # Datasette writes absolute links (next page, toggles) from the request's Host.
    return (scope["path"], query, _header(scope, b"host") or b"", encoding)


def cacheable_request(scope: Scope) -> bool:
    """Plain GETs of the database's own pages and of the site search; the site's other pages under /-/ (charts,
    DCAT, downloads) keep their own caching."""
    if scope["type"] != "http" or scope.get("method") != "GET":
        return False
    path = scope["path"]
    if path not in ("/", SEARCH_PATH) and not path.startswith(f"/{DATABASE}"):
        return False
    if _header(scope, b"if-none-match") is not None or b"no-cache" in (_header(scope, b"cache-control") or b""):
        return False
    return b"_stream" not in (scope.get("query_string") or b"")


async def _send_all(messages: list[Message], send: Send) -> None:
    for message in messages:
        await send(message)


def wrap(app: ASGIApp, store: Store) -> ASGIApp:

    async def cached(scope: Scope, receive: Receive, send: Send) -> None:
        if not cacheable_request(scope):
            await app(scope, receive, send)
            return
        key = _key(scope)
        while (stored := store.get(key)) is None:
            flight = store.building.get(key)
            if flight is None:
                await _lead(app, store, key, scope, receive, send)
                return
            await flight.done.wait()
            if flight.answer is not None:
                await _send_all(flight.answer, send)  # kept or not (an error), the same answer
                return
            if flight.completed:
                await app(scope, receive, send)  # too large to hold: compute this one
                return
            # Otherwise its client left before the end: look again, and build it if nobody else has started.
        await _send_all(stored, send)

    return cached


async def _lead(app: ASGIApp, store: Store, key: Key, scope: Scope, receive: Receive, send: Send) -> None:
    flight = Flight()
    store.building[key] = flight

    def finish(answer: list[Message] | None, completed: bool) -> None:
        if not flight.done.is_set():
            flight.answer, flight.completed = answer, completed
            del store.building[key]
            flight.done.set()

    try:
        await _build(app, store, key, scope, receive, send, finish)
        finish(None, True)  # ran to the end without an answer to share: too large to hold
    finally:
        finish(None, False)  # its client left, or it failed: one of the waiting requests builds it


async def _build(app: ASGIApp, store: Store, key: Key, scope: Scope, receive: Receive, send: Send,
                 finish: Callable[[list[Message] | None, bool], None]) -> None:
    """Compute the answer and send it. Once its last part is made, and before that part is sent, keep it if it is
    a successful one and hand it to the requests that waited (if it is complete, bounded and sets no cookie): they
    need not wait for the first client to read it, which a client that reads slowly could make last minutes."""
    recorded: list[Message] = []
    size = [0]

    async def recording_send(message: Message) -> None:
        if size[0] <= store.max_entry_bytes:
            recorded.append(message)
            size[0] += len(message.get("body", b""))
        if message.get("type") == "http.response.body" and not message.get("more_body", False):
            finish(_shareable(store, key, recorded, size[0]), True)
        await send(message)

    await app(scope, receive, recording_send)


def _shareable(store: Store, key: Key, recorded: list[Message], size: int) -> list[Message] | None:
    """The whole answer if it can go to other requests (kept too if it is a 200), else None."""
    start = recorded[0] if recorded else {}
    headers = {name.lower() for name, _ in start.get("headers", [])}
    if size > store.max_entry_bytes or not recorded or recorded[-1].get("more_body", False) \
            or b"set-cookie" in headers:
        return None
    if start.get("status") == 200:
        store.put(key, recorded)
    return recorded


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    store = _stores.setdefault(datasette, Store())
    return lambda app: wrap(app, store)
