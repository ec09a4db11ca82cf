"""The site search at /-/zoeken: one search over the text of every table, grouped by table, linking to rows.

Datasette searches one table at a time, and only the tables with an FTS index. This page searches the index the
build wrote into the database (`site_search`, loaders/site_search.py: every row of every resource with its label,
its descriptive text and the labels of the rows it is linked to), so a server process builds nothing itself.
Every word typed is the beginning of a word (loaders/search_match.py). The search is bounded per table, whatever
is typed: the table's first CANDIDATES matching entries (in the order of its rows) are ranked (every word in the
label first, then shorter labels: search_match.rank), the best HITS_PER_TABLE shown with a snippet in which the
match is marked, and matches are counted up to COUNT_CAP. At 3.4 million entries a common word such as 'de'
matches most of them; ranking (bm25) or counting them all took seconds.
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import sqlite_timelimit
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from loaders.schema import served_package
from loaders.search_match import CANDIDATES_SQL, COUNT_SQL, TABLES_SQL, TEXT_SQL, bounded_match, rank, snippet, words
from loaders.site import DATABASE, SEARCH_PATH
from loaders.site_search import TERMS

PATH = SEARCH_PATH
HITS_PER_TABLE = 10
CANDIDATES = 50
COUNT_CAP = 1_000
MAX_QUERY_CHARS = 200
START, END = "\x02", "\x03"  # marks put around a match by snippet(), turned into <mark> after escaping
SUGGESTIONS_SQL = f"select term from {TERMS} where term >= :low and term < :high order by entries desc limit 5"


class Hit(NamedTuple):
    table: str
    label: str
    snippet: Markup
    href: str


class Group(NamedTuple):
    hits: list[Hit]
    count: int  # matching entries, at most COUNT_CAP + 1
    best: int  # the rank of its best hit


def _search(conn: sqlite3.Connection, q: str, table_url: Any) -> dict[str, Group]:
    """In one trip to a SQL thread: per table its best hits and how many entries match (up to one past the cap)."""
    query = bounded_match(conn, q)
    typed = words(q)
    groups: dict[str, Group] = {}
    for table, first, last in conn.execute(TABLES_SQL).fetchall():
        bounds = {"q": query, "first": first, "last": last}
        candidates = conn.execute(CANDIDATES_SQL, {**bounds, "n": CANDIDATES}).fetchall()
        if not candidates:
            continue
        ranked = sorted((rank(typed, label), rowid, label, path) for rowid, label, path in candidates)
        hits = []
        for _rank, rowid, label, path in ranked[:HITS_PER_TABLE]:
            body, related = conn.execute(TEXT_SQL, {"rowid": rowid}).fetchone()
            snip = snippet(typed, [label, body, related], START, END)
            marked = str(escape(snip)).replace(START, "<mark>").replace(END, "</mark>")
            hits.append(Hit(table, label, Markup(marked), f"{table_url(table)}/{path}"))
        (count,) = conn.execute(COUNT_SQL, {**bounds, "n": COUNT_CAP + 1}).fetchone()
        groups[table] = Group(hits, count, ranked[0][0])
    return dict(sorted(groups.items(), key=lambda item: item[1].best))  # tables in the order of their best hit


async def search(datasette: Any, q: str) -> dict[str, Group]:
    """The best hits per table, and how many rows of each table match (up to COUNT_CAP + 1). Bounded in time like
    any query (sql_time_limit_ms): execute_fn sets no limit of its own, and many common words together (`de het
    een van ...`) made every table's candidates an intersection of long match lists, 1.8 s at bench scale 1000."""
    db = datasette.get_database(DATABASE)

    def bounded(conn: sqlite3.Connection) -> dict[str, Group]:
        with sqlite_timelimit(conn, datasette.setting("sql_time_limit_ms")):
            try:
                return _search(conn, q, lambda t: datasette.urls.table(DATABASE, t))
            except sqlite3.OperationalError as error:
                if error.args == ("interrupted",):  # the visitor sees the site's 400 "took too long" page
                    raise QueryInterrupted(error, "site search", {"q": q}) from None
                raise

    return dict(await db.execute_fn(bounded))


async def suggestions(datasette: Any, q: str) -> list[str]:
    """Words in the data that start like the words typed, for a search without results."""
    db = datasette.get_database(DATABASE)
    found: list[str] = []
    for word in words(q):
        stem = word[:3]
        if len(stem) < 3:
            continue
        found += [t for (t,) in (await db.execute(SUGGESTIONS_SQL, {"low": stem, "high": stem + "\U0010ffff"})).rows]
    return list(dict.fromkeys(found))[:8]


def count_text(count: int) -> str:
    """A count as shown: past the cap only that there are more."""
    return f"meer dan {COUNT_CAP:,}".replace(",", ".") if count > COUNT_CAP else f"{count:,}".replace(",", ".")


async def search_view(datasette: Any, request: Any) -> Response:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    groups = await search(datasette, q) if q else {}
    titles = {r.name: r.title for r in served_package().resources}
    total = sum(min(g.count, COUNT_CAP) for g in groups.values())
    context = {
        "q": q,
        "site_search_q": q,
        "groups": [{"table": t, "title": titles.get(t, t), "hits": g.hits, "total": count_text(g.count),
                    "rest": count_text(g.count - len(g.hits)) if g.count <= COUNT_CAP else None,
                    "more": f"{datasette.urls.table(DATABASE, t)}" if g.count > HITS_PER_TABLE else None}
                   for t, g in groups.items()],
        "total": ("meer dan " if any(g.count > COUNT_CAP for g in groups.values()) else "")
        + f"{total:,}".replace(",", "."),
        "one": total == 1 and len(groups) == 1,
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
