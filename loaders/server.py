"""The served site: one Datasette configured from the project's files, run by uvicorn with bounds.

`prestatieafspraken serve`, the tests and the benchmarks all build the Datasette here, so what is
tested is what is served. uvicorn runs in-process rather than through `datasette serve`, because
that command cannot set the server limits a public site needs:

- `timeout_graceful_shutdown`: SIGTERM ends the process within a few seconds even while a long
  download is still streaming (uvicorn otherwise waits for every open response to finish);
- `limit_concurrency`: past this many open connections uvicorn answers 503 itself, a backstop
  behind the finer admission control in plugins/admission.py;
- `timeout_keep_alive`: idle keep-alive connections are closed after a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import sqlite3
from pathlib import Path

from datasette.app import Datasette

from . import chart_render
from .site import DATABASE, settings
from .site_files import read_inspect, read_json, site_file_paths

GRACEFUL_SHUTDOWN_SECONDS = 3
MAX_CONNECTIONS = 1_000
KEEP_ALIVE_SECONDS = 5
# glibc raises its mmap threshold after large blocks are freed, so that later large results land in
# the heap and stay in RSS; a fixed threshold gives memory of big answers back to the system.
MMAP_THRESHOLD = 128 * 1024
M_MMAP_THRESHOLD = -3


def configured_datasette(root: Path, db: Path) -> Datasette:
    """The Datasette of `make serve`: the database immutable with the metadata and inspect data the build wrote
    next to it (row counts of every table and view, so no page counts them per request; ignored when written for
    other data), the project's plugins, templates and settings."""
    metadata_path, inspect_path = site_file_paths(db)
    for path in (metadata_path, inspect_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; run `make build` first")
    inspect = read_inspect(db)
    datasette = Datasette(
        immutables=[str(db)],
        metadata=read_json(metadata_path),
        inspect_data=inspect,
        plugins_dir=str(root / "plugins"),
        template_dir=str(root / "templates"),
        settings=settings(root),
    )
    if inspect:
        _tables_only(datasette, db)
    return datasette


def _tables_only(datasette: Datasette, db: Path) -> None:
    """Datasette lists every name in the inspect data as a table on the database and home pages (and looks up
    its foreign keys); the view counts are there for the views' own pages, so the list is given tables only."""
    database = datasette.databases[db.stem]
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    try:
        tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
    finally:
        conn.close()
    counts = database.cached_table_counts or {}
    database._cached_table_counts = {name: n for name, n in counts.items() if name in tables}


def _fix_mmap_threshold() -> None:
    name = ctypes.util.find_library("c")
    if not name:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL(name).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


async def warm(datasette: Datasette) -> None:
    """Build the pages every visitor starts from once, before serving (plugins/page_cache.py keeps them)."""
    for path in ("/", f"/{DATABASE}"):
        for encoding in ("gzip", "identity"):
            await datasette.client.get(path, headers={"Accept-Encoding": encoding})


def run(root: Path, db: Path, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM."""
    import uvicorn

    if not db.is_file():
        raise FileNotFoundError(f"{db}: no database; run `make build` first")
    _fix_mmap_threshold()
    datasette = configured_datasette(root, db)
    asyncio.run(warm(datasette))
    chart_render.start()
    app = datasette.app()
    uvicorn.run(app, host=host, port=port, lifespan="on", log_level="info",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)
