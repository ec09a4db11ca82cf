"""SQL function fts_query(q): whatever a visitor types as a safe FTS5 query (loaders/fts.py), for saved queries."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from datasette import hookimpl

from loaders.fts import fts_query
from loaders.site import DATABASE


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("fts_query", 1, fts_query, deterministic=True)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Any:
    """The search query returns a `link` path per hit; show it as a link to that row."""
    if (table is None and column == "link" and isinstance(value, str)
            and re.fullmatch(rf"/{re.escape(DATABASE)}/[a-z_]+/[A-Za-z0-9-]+", value)):
        from markupsafe import Markup, escape

        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    return None
