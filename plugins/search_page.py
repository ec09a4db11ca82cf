"""The site search at /-/zoeken: one search over the text of every table, grouped by table, linking to rows.

Datasette searches one table at a time, and only the tables with an FTS index. This page searches the index the
build wrote into the database (`site_search`, loaders/site_search.py: every row of every resource with its label,
its descriptive text and the labels of the rows it is linked to), so a server process builds nothing itself.
Every word typed is a prefix (loaders/fts.py), hits are ranked by bm25 with the label weighing most, and shown
with a snippet in which the match is marked. The search is bounded: per table the best HITS_PER_TABLE rows get a
snippet, the rest are only counted.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from loaders.fts import fts_query
from loaders.schema import served_package
from loaders.site import DATABASE
from loaders.site_search import TABLE, VOCAB

PATH = "/-/zoeken"
HITS_PER_TABLE = 10
MAX_QUERY_CHARS = 200
START, END = "\x02", "\x03"  # marks put around a match by snippet(), turned into <mark> after escaping
# The best hits per table (bm25, label first), then a snippet for those rows only.
BEST_SQL = f"""
select tbl, label, path, snippet({TABLE}, -1, :start, :end, '…', 14) as snip from {TABLE}
where {TABLE} match :q and rowid in (
  select rowid from (
    select rowid, row_number() over (partition by tbl order by bm25({TABLE}, 5.0, 1.0, 0.5)) as n
    from {TABLE} where {TABLE} match :q
  ) where n <= :per_table
)
order by bm25({TABLE}, 5.0, 1.0, 0.5)
"""
COUNT_SQL = f"select tbl, count(*) from {TABLE} where {TABLE} match :q group by tbl"
VOCAB_SQL = f"select term from {VOCAB} where term >= :low and term < :high order by doc desc limit 5"


class Hit(NamedTuple):
    table: str
    label: str
    snippet: Markup
    href: str


async def search(datasette: Any, q: str) -> tuple[dict[str, list[Hit]], dict[str, int]]:
    """The best hits per table, and how many rows of each table match."""
    db = datasette.get_database(DATABASE)
    query = fts_query(q)
    counts = {t: n for t, n in (await db.execute(COUNT_SQL, {"q": query})).rows}
    rows = await db.execute(BEST_SQL, {"q": query, "start": START, "end": END, "per_table": HITS_PER_TABLE})
    grouped: dict[str, list[Hit]] = {}
    for table, label, path, snip in rows.rows:
        marked = str(escape(snip)).replace(START, "<mark>").replace(END, "</mark>")
        href = f"{datasette.urls.table(DATABASE, table)}/{path}"
        grouped.setdefault(table, []).append(Hit(table, label, Markup(marked), href))
    return grouped, counts  # tables in the order of their best hit


async def suggestions(datasette: Any, q: str) -> list[str]:
    """Words in the data that start like the words typed, for a search without results."""
    db = datasette.get_database(DATABASE)
    words = [w.lower() for w in fts_query(q).replace('"', " ").replace("*", " ").split()]
    found: list[str] = []
    for word in words:
        stem = word[:3]
        if len(stem) < 3:
            continue
        found += [t for (t,) in (await db.execute(VOCAB_SQL, {"low": stem, "high": stem + "\uffff"})).rows]
    return list(dict.fromkeys(found))[:8]


async def search_view(datasette: Any, request: Any) -> Response:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    groups, counts = await search(datasette, q) if q else ({}, {})
    titles = {r.name: r.title for r in served_package().resources}
    context = {
        "q": q,
        "site_search_q": q,
        "groups": [{"table": t, "title": titles.get(t, t), "hits": hits, "total": counts.get(t, len(hits)),
                    "more": f"{datasette.urls.table(DATABASE, t)}" if counts.get(t, 0) > HITS_PER_TABLE else None}
                   for t, hits in groups.items()],
        "total": sum(counts.values()),
        "suggestions": await suggestions(datasette, q) if q and not groups else [],
        "tables": [(r.name, r.title) for r in served_package().resources],
        "database": DATABASE,
    }
    html = await datasette.render_template("zoeken.html", context, request=request)
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/zoeken$", search_view)]


@hookimpl
def extra_template_vars(request: Any) -> dict[str, Any]:
    """The header's search box keeps what was typed on the results page."""
    if request is not None and request.path == PATH:
        return {"site_search_q": (request.args.get("q") or "")[:MAX_QUERY_CHARS]}
    return {}
