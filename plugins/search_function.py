"""The SQL functions of the saved questions (loaders/search_match.py registers them on every connection):
fts_query(q) for a table's own index, and for the site search index site_search_query(q), site_search_rank(q,
label) and site_search_snippet(q, start, end, label, body, related), the bounded query, rank and snippet that
/-/zoeken shows."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from datasette import hookimpl

from loaders.search_match import register_functions
from loaders.site import DATABASE


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    register_functions(conn)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Any:
    """The search query returns a `link` path per hit; show it as a link to that row."""
    if (table is None and column == "link" and isinstance(value, str)
            and re.fullmatch(rf"/{re.escape(DATABASE)}/[a-z_]+/[A-Za-z0-9_.~,-]+", value)):
        from markupsafe import Markup, escape

        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    return None
