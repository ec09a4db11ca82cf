"""The site search at /-/zoeken: one search over the text of every table, grouped by table, linking to rows.

Datasette searches one table at a time, and only the tables with an FTS index. This page builds, once per
process, one in-memory FTS5 index from the served (immutable) database, guided by datapackage.yaml:

- every row of every resource is one entry: its label (the resource's `labelColumn`, else its key), the text of
  its descriptive string columns (not keys, dates, URLs or enum codes), and the labels of the rows it refers to
  (a project's place and partner, a figure's document), so "Ezinge" finds the projects in Ezinge as well;
- the tokenizer (unicode61, remove_diacritics 2) folds case and diacritics and splits on hyphens, and every word
  typed is a prefix (loaders/fts.py), so "ezinge", "Ezinge" and "Ezin" find the same rows,
  and "wehe den hoorn" the same as "Wehe-den Hoorn";
- hits are ranked by bm25, the label weighing most, and shown with a snippet in which the match is marked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, NamedTuple

from datasette import hookimpl
from datasette.utils import path_from_row_pks
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from loaders.fts import fts_query
from loaders.schema import Package, Resource, served_package
from loaders.site import DATABASE

PATH = "/-/zoeken"
HITS_PER_TABLE = 10
MAX_QUERY_CHARS = 200
START, END = "\x02", "\x03"  # marks put around a match by snippet(), turned into <mark> after escaping
SKIPPED_NAMES = {"id", "url", "website"}


class Hit(NamedTuple):
    table: str
    label: str
    snippet: Markup
    href: str


def text_columns(resource: Resource) -> list[str]:
    """The columns whose words a visitor would search for: descriptive strings, not codes, keys or dates."""
    return [f.name for f in resource.fields
            if f.type == "string" and not f.enum and not f.partial_date and f.name not in SKIPPED_NAMES
            and not f.name.endswith("_id") and not f.name.endswith("_on")]


class SiteIndex:
    """One FTS5 table over every resource of the package, in memory."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn.execute(
            "create virtual table search using fts5(label, body, related, tbl unindexed, href unindexed, "
            "tokenize = 'unicode61 remove_diacritics 2')")
        self.titles: dict[str, str] = {}

    async def fill(self, datasette: Any, package: Package) -> None:
        db = datasette.get_database(DATABASE)
        labels: dict[str, dict[str, str]] = {}
        rows_by_table: dict[str, list[dict[str, Any]]] = {}
        for resource in package.resources:
            result = await db.execute(f"select * from [{resource.name}]")
            rows = [dict(r) for r in result.rows]
            rows_by_table[resource.name] = rows
            if resource.label_column and len(resource.primary_key) == 1:
                key = resource.primary_key[0]
                labels[resource.name] = {str(r[key]): str(r[resource.label_column] or "") for r in rows}
            self.titles[resource.name] = resource.title
        # A link table (no label of its own, such as project_places) tells each side the label of the other:
        # a project is found by the names of its villages, a village by the names of its projects.
        linked: dict[tuple[str, str], list[str]] = {}
        for resource in package.resources:
            if resource.label_column:
                continue
            sides = [(fk.fields[0], fk.resource) for fk in resource.foreign_keys
                     if len(fk.fields) == 1 and fk.resource != "sources" and fk.resource in labels]
            for row in rows_by_table[resource.name]:
                for column, target in sides:
                    for other_column, other_target in sides:
                        if other_column != column:
                            label = labels[other_target].get(str(row.get(other_column)), "")
                            linked.setdefault((target, str(row.get(column))), []).append(label)
        entries = []
        for resource in package.resources:
            columns = text_columns(resource)
            references = [(fk.fields[0], fk.resource) for fk in resource.foreign_keys
                          if len(fk.fields) == 1 and fk.resource not in ("sources", resource.name)]
            for row in rows_by_table[resource.name]:
                related = [labels.get(target, {}).get(str(row.get(column)), "") for column, target in references
                           if row.get(column) is not None]
                if len(resource.primary_key) == 1:
                    related += linked.get((resource.name, str(row[resource.primary_key[0]])), [])
                related = list(dict.fromkeys(r for r in related if r))
                if resource.label_column:
                    label = str(row[resource.label_column])
                else:  # a link table: named by the rows it links
                    label = " – ".join(related) or ", ".join(str(row[k]) for k in resource.primary_key)
                href = datasette.urls.row(DATABASE, resource.name,
                                          path_from_row_pks(row, list(resource.primary_key), False))
                body = "\n".join(str(row[c]) for c in columns
                                 if row.get(c) not in (None, "") and c != resource.label_column)
                entries.append((label, body, " · ".join(related), resource.name, href))
        self.conn.executemany("insert into search(label, body, related, tbl, href) values (?, ?, ?, ?, ?)", entries)

    def search(self, q: str) -> dict[str, list[Hit]]:
        rows = self.conn.execute(
            "select tbl, label, href, snippet(search, -1, ?, ?, '…', 14) as snip, "
            "bm25(search, 5.0, 1.0, 0.5) as score from search where search match ? order by score",
            (START, END, fts_query(q))).fetchall()
        grouped: dict[str, list[Hit]] = {}
        for table, label, href, snip, _score in rows:
            marked = str(escape(snip)).replace(START, "<mark>").replace(END, "</mark>")
            grouped.setdefault(table, []).append(Hit(table, label, Markup(marked), href))
        return grouped

    def suggestions(self, q: str) -> list[str]:
        """Words in the data that start like the words typed, for a search without results."""
        self.conn.execute("create virtual table if not exists temp.vocab using fts5vocab(main, search, row)")
        words = [w.lower() for w in fts_query(q).replace('"', " ").replace("*", " ").split()]
        found: list[str] = []
        for word in words:
            stem = word[:3]
            if len(stem) < 3:
                continue
            found += [t for (t,) in self.conn.execute(
                "select term from temp.vocab where term >= ? and term < ? order by doc desc limit 5",
                (stem, stem + "\uffff"))]
        return list(dict.fromkeys(found))[:8]


_indexes: dict[int, SiteIndex] = {}
_lock = asyncio.Lock()


async def site_index(datasette: Any) -> SiteIndex:
    async with _lock:
        if id(datasette) not in _indexes:
            index = SiteIndex()
            await index.fill(datasette, served_package())
            _indexes[id(datasette)] = index
        return _indexes[id(datasette)]


async def search_view(datasette: Any, request: Any) -> Response:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    index = await site_index(datasette)
    groups = index.search(q) if q else {}
    context = {
        "q": q,
        "site_search_q": q,
        "groups": [{"table": t, "title": index.titles.get(t, t), "hits": hits[:HITS_PER_TABLE], "total": len(hits),
                    "more": f"{datasette.urls.table(DATABASE, t)}" if len(hits) > HITS_PER_TABLE else None}
                   for t, hits in groups.items()],
        "total": sum(len(h) for h in groups.values()),
        "suggestions": index.suggestions(q) if q and not groups else [],
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
