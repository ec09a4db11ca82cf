"""The SQL functions of the saved questions (loaders/search_match.py registers them on every connection):
fts_query(q) for a table's own index, and for the site search index site_search_query(q), site_search_rank(q,
label) and site_search_snippet(q, start, end, label, body, related), the bounded query, rank and snippet that
/-/zoeken shows. (The search question's `link` column is shown as a link by plugins/cells.py.)"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

from loaders.search_match import register_functions


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    register_functions(conn)
