"""Downloads served as the DCAT description declares them.

- /-/downloads/<file>: the data package zip that the build writes next to the database. Only files on
  this short list are served, so no path from the URL reaches the disk.
- /<database>.db: Datasette's own download of the SQLite file, which it labels application/octet-stream;
  this plugin relabels it with the registered SQLite media type, application/vnd.sqlite3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loaders.datapackage_zip import ZIP_NAME
from loaders.site import DATABASE, ASGIApp, Message, Receive, Scope, Send

FILES = {ZIP_NAME: "application/zip"}
SQLITE_PATH = f"/{DATABASE}.db"
SQLITE_MEDIA_TYPE = b"application/vnd.sqlite3"


def build_dir(datasette: Any) -> Path:
    return Path(datasette.get_database(DATABASE).path).parent


async def download(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    if name not in FILES:
        return Response.text("Geen download met die naam / No download by that name\n", status=404)
    path = build_dir(datasette) / name
    if not path.exists():
        return Response.text("Dit bestand is nog niet gebouwd / This file has not been built yet\n", status=404)
    return Response(
        path.read_bytes(),
        content_type=FILES[name],
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "public, max-age=3600"},
    )


def sqlite_media_type(app: ASGIApp) -> ASGIApp:
    """Relabel a successful download of the database file; every other response passes untouched."""

    async def relabelled(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != SQLITE_PATH:
            await app(scope, receive, send)
            return

        async def relabel(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-type"]
                message = {**message, "headers": [*headers, (b"content-type", SQLITE_MEDIA_TYPE)]}
            await send(message)

        await app(scope, receive, relabel)

    return relabelled


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    return sqlite_media_type


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/downloads/(?P<name>[A-Za-z0-9._-]+)$", download)]
