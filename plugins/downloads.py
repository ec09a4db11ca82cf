"""/-/downloads/<file>: the data package zip that the build writes next to the database.

The SQLite file itself is Datasette's own download (/prestatieafspraken.db); only
files on this short list are served, so no path from the URL reaches the disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loaders.datapackage_zip import ZIP_NAME
from loaders.site import DATABASE

FILES = {ZIP_NAME: "application/zip"}


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


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/downloads/(?P<name>[A-Za-z0-9._-]+)$", download)]
