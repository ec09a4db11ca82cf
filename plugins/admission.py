"""Admission control: the server only takes on work it can finish in time, and drops work nobody waits for.

Datasette runs every query in a pool of `num_sql_threads` threads. Without a bound, 200 slow queries
(each allowed the full SQL time limit) queued in front of every other visitor for minutes. Requests
that reach Datasette are therefore admitted in classes, each with a number of places and a longest
wait; a request that cannot get a place within that wait gets a quick `503` with `Retry-After`:

- ad-hoc SQL (`?sql=` or `_where=`): one fewer at a time than there are SQL threads or CPU cores,
  whichever is fewer (so one on a 2-core machine), so a thread and a core always serve the ordinary
  pages; a short wait, because each may hold a thread and a core for the full time limit;
- downloads that stream every row (`.excel`, `_stream=`): two at a time;
- every other page that reads the database: twice the threads, so the pool stays busy, with a
  longer wait, since these pages take milliseconds.

Static files need no SQL and pass freely; cached pages and 304 answers are served by the layers
outside this one (this wrapper is `tryfirst`: innermost, next to Datasette) and never wait here.

A client that goes away stops its request: a watcher reads the ASGI `receive` channel, and once the
client has disconnected, the next `send` raises, which ends a streaming download at its next page
instead of computing every remaining row for nobody (uvicorn itself drops such data silently).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from datasette import hookimpl

from loaders.site import ASGIApp, Message, Receive, Scope, Send

RETRY_AFTER_SECONDS = 5
FREE_PREFIXES = ("/-/static/", "/-/static-plugins/")
FREE_PATHS = {"/favicon.ico", "/robots.txt"}


class ClientDisconnected(Exception):
    """The client closed the connection; nothing more can be sent."""


class Gate:
    """A number of places and how long a request may wait for one."""

    def __init__(self, name: str, places: int, wait_seconds: float) -> None:
        self.name = name
        self.places = asyncio.Semaphore(places)
        self.wait_seconds = wait_seconds

    async def enter(self) -> bool:
        try:
            await asyncio.wait_for(self.places.acquire(), self.wait_seconds)
        except TimeoutError:
            return False
        return True

    def leave(self) -> None:
        self.places.release()


def request_class(scope: Scope) -> str | None:
    """Which gate a request goes through; None for requests that read no database."""
    path = scope.get("path", "")
    if path in FREE_PATHS or path.startswith(FREE_PREFIXES):
        return None
    names = {name for name, _ in parse_qsl((scope.get("query_string") or b"").decode("latin-1"),
                                          keep_blank_values=True)}
    if "sql" in names or "_where" in names:
        return "sql"
    if path.endswith(".excel") or "_stream" in names:
        return "stream"
    return "page"


async def busy(send: Send, gate: str) -> None:
    body = ("De site is even te druk; probeer het over een paar seconden opnieuw. "
            f"/ The site is busy; please retry in a few seconds. ({gate})\n").encode()
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def wrap(app: ASGIApp, threads: int, cores: int) -> ASGIApp:
    gates: dict[str, Gate] = {}

    def gate_for(name: str) -> Gate:
        # Created on first use, inside the event loop that serves the requests.
        if name not in gates:
            gates.update({
                "sql": Gate("sql", max(1, min(threads, cores) - 1), 0.5),
                "stream": Gate("stream", 2, 1.0),
                "page": Gate("page", 2 * threads, 10.0),
            })
        return gates[name]

    async def admitted(scope: Scope, receive: Receive, send: Send) -> None:
        name = request_class(scope) if scope["type"] == "http" else None
        if name is None:
            await app(scope, receive, send)
            return
        gate = gate_for(name)
        if not await gate.enter():
            await busy(send, name)
            return
        gone = asyncio.Event()
        inbox: asyncio.Queue[Message] = asyncio.Queue()

        async def watch() -> None:
            body_done = False
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    await inbox.put(message)
                    return
                if body_done:
                    return  # a server that never signals a disconnect: nothing to watch for
                body_done = not message.get("more_body", False)
                await inbox.put(message)

        async def relayed_receive() -> Message:
            return await inbox.get()

        async def checked_send(message: Message) -> None:
            if gone.is_set():
                raise ClientDisconnected()
            await send(message)

        watcher = asyncio.create_task(watch())
        try:
            await app(scope, relayed_receive, checked_send)
        except ClientDisconnected:
            pass
        finally:
            gate.leave()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    return admitted


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    threads = int(datasette.setting("num_sql_threads") or 3)
    return lambda app: wrap(app, threads, len(os.sched_getaffinity(0)))
