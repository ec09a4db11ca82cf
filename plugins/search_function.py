"""SQL functions for saved queries: fts_query(q), whatever a visitor types as a safe FTS5 query for a table's own
index (loaders/fts.py); for the site search index (loaders/search_match.py) site_search_query(q), the same as a
bounded query (it reads the index's word list through the connection that calls it), site_search_rank(q, label)
and site_search_snippet(q, start, end, label, body, related), the rank and snippet /-/zoeken shows."""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any

from datasette import hookimpl

from loaders.fts import fts_query
from loaders.search_match import bounded_match, rank, snippet, words
from loaders.site import DATABASE


@lru_cache(maxsize=256)
def typed_words(q: Any) -> list[str]:
    """The words of a search, worked out once per search instead of once per row it ranks."""
    return words(q)


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("fts_query", 1, fts_query, deterministic=True)
    conn.create_function("site_search_query", 1, lambda q: bounded_match(conn, q))
    conn.create_function("site_search_rank", 2, lambda q, label: rank(typed_words(q), str(label or "")),
                         deterministic=True)
    conn.create_function("site_search_snippet", 6,
                         lambda q, start, end, *texts: snippet(typed_words(q), [str(t or "") for t in texts],
                                                                     start, end),
                         deterministic=True)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Any:
    """The search query returns a `link` path per hit; show it as a link to that row."""
    if (table is None and column == "link" and isinstance(value, str)
            and re.fullmatch(rf"/{re.escape(DATABASE)}/[a-z_]+/[A-Za-z0-9_.~,-]+", value)):
        from markupsafe import Markup, escape

        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    return None
