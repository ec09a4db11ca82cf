"""Datasette's inspect data for the built database, written next to it by the build.

With inspect data and an immutable database, Datasette takes a table's unfiltered row count from here instead
of running `select count(*)` over millions of rows on every table page, and the database page's counts too.
The file names the data_version it was made for; loaders/server.py uses it only for the database with that
version, so a stale file is ignored, never believed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .site import DATABASE


def inspect_path(db: Path) -> Path:
    return db.with_name(db.stem + ".inspect.json")


def inspect_data(db: Path, counts: dict[str, int], data_version: str) -> dict[str, Any]:
    """The shape `datasette inspect` writes: hash, size, file and the count of each table (views included)."""
    return {DATABASE: {"hash": data_version, "size": db.stat().st_size, "file": str(db),
                       "tables": {name: {"count": n} for name, n in sorted(counts.items())}}}


def write_inspect(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_inspect(db: Path, data_version: str) -> dict[str, Any] | None:
    """The inspect data for `db` if it was written for this data_version, else None."""
    try:
        data = json.loads(inspect_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(DATABASE) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or entry.get("hash") != data_version:
        return None
    entry["file"] = str(db)
    return data
