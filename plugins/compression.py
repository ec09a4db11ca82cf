"""gzip for text responses when the browser accepts it (asgi-gzip, Starlette's GZip middleware).

A table page with the datasette-vega charts loads about 1 MB of JavaScript; gzip cuts HTML, JSON, CSV
and JavaScript to a fraction. Files that are compressed already (PNG charts, the data package zip, the
database download) are passed through untouched, and answers under 1,000 bytes are not worth it.
Level 6 compresses almost as well as 9 at a fraction of the CPU time. Responses carry
`Vary: Accept-Encoding`, so a caching proxy keeps the two forms apart.

Why not datasette-gzip (0.3): it is this same asgi-gzip middleware, with no way to pass the .db/.zip/.png
downloads through and registered `trylast`, the outermost place plugins/security.py must hold.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgi_gzip import GZipMiddleware
from datasette import hookimpl

MINIMUM_SIZE = 1_000
LEVEL = 6
ALREADY_COMPRESSED = re.compile(r"\.(png|jpe?g|gif|webp|zip|gz|db)$")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def wrap(app: ASGIApp) -> ASGIApp:
    gzipped = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)

    async def compressed(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not ALREADY_COMPRESSED.search(scope.get("path", "")):
            await gzipped(scope, receive, send)
        else:
            await app(scope, receive, send)

    return compressed


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    return wrap
