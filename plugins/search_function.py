"""SQL function fts_query(q): turns whatever a visitor types into a safe FTS5 query.

Every word is quoted (so a lone quote, NEAR( or a minus sign is text, not syntax)
and may be a prefix ("huurder" finds "huurders"). Empty input matches nothing
instead of raising an FTS5 syntax error.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from datasette import hookimpl

WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(q: Any) -> str:
    words = WORD.findall(str(q or ""))[:32]
    if not words:
        return '""'
    return " ".join(f'"{w}"*' for w in words)


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("fts_query", 1, fts_query, deterministic=True)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Any:
    """The search query returns a `link` path per hit; show it as a link to that row."""
    if (table is None and column == "link" and isinstance(value, str)
            and re.fullmatch(r"/prestatieafspraken/[a-z_]+/[A-Za-z0-9-]+", value)):
        from markupsafe import Markup, escape

        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    return None
