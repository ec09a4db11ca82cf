"""The SQL every page a visitor can reach by clicking runs, and which of it scans a large table (issue #16).

`page_queries` lists, per page kind, the statements Datasette (or our plugins) run for it: each saved query (and
so each chart, which draws one), each table page with its default sort, each sort on an indexed column (foreign
keys, facets, label; a sort on another column is not covered), each default facet
(unfiltered from the build's `facet_counts`, filtered on one column with few values from `facet_pair_counts`,
otherwise through the filter column's index), a row page with its
"links from other tables" counts, a table search, and the site search. `scans` reads EXPLAIN QUERY PLAN: a
`SCAN` of a large table is a finding, unless the statement has a LIMIT and the plan reads rows in the order asked
(no temporary B-tree), so that it stops after one page.

Used by tests/test_plans.py (on a generated package) and bench/serving.py (on the scale-1000 database).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loaders.build import sort_columns
from loaders.queries import load_queries
from loaders.schema import PROJECT_ROOT, Package, Resource
from loaders.search_match import CANDIDATES_SQL, COUNT_SQL, TABLES_SQL, bounded_match, register_functions

PAGE_SIZE = 101  # settings.json default_page_size + 1
FACET_LIMIT = 31  # Datasette's default_facet_size + 1
SCAN = re.compile(r"\bSCAN (\w+)")
# A sort or grouping of all the rows a scan reads (not of one group's values, nor the right part of an order).
FULL_SORT = re.compile(r"USE TEMP B-TREE FOR (ORDER BY|GROUP BY|DISTINCT)$")


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True, check_same_thread=False)
    register_functions(conn)
    return conn


def _one(conn: sqlite3.Connection, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def page_queries(conn: sqlite3.Connection, package: Package,
                 params: dict[str, str] | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(page, SQL, parameters) for every statement a clickable page runs."""
    for name, query in load_queries(PROJECT_ROOT).items():
        values = {p: (params or {}).get(p, "") for p in query.get("params", [])}
        yield f"saved query {name}", query["sql"], values
    for resource in package.resources:
        yield from _table_pages(conn, package, resource)
    query = bounded_match(conn, "huurders")
    for table, first, last in conn.execute(TABLES_SQL).fetchall():
        bounds = {"q": query, "first": first, "last": last}
        yield f"site search in {table}", CANDIDATES_SQL, {**bounds, "n": 50}
        yield f"site search count in {table}", COUNT_SQL, {**bounds, "n": 1001}


def _table_pages(conn: sqlite3.Connection, package: Package,
                 resource: Resource) -> Iterator[tuple[str, str, dict[str, Any]]]:
    t = _q(resource.name)
    pk = ", ".join(_q(k) for k in resource.primary_key) or "rowid"
    name = resource.name
    yield f"table {name}", f"select * from {t} order by {pk} limit {PAGE_SIZE}", {}
    for column in sort_columns(resource):
        yield (f"table {name} sorted by {column}",
               f"select * from {t} order by {_q(column)}, {pk} limit {PAGE_SIZE}", {})
    facets = [f.name for f in resource.fields if f.facet]
    for column in facets:
        yield (f"table {name} facet {column}",
               "select value, count from facet_counts where tbl = :tbl and col = :col "
               f"order by count desc, value limit {FACET_LIMIT}", {"tbl": name, "col": column})
        value = _one(conn, f"select {_q(column)} from {t} where {_q(column)} is not null limit 1")
        if value is None:
            continue
        where = f"where {_q(column)} = :v"
        yield f"table {name} filtered by {column}", f"select * from {t} {where} order by {pk} limit {PAGE_SIZE}", \
            {"v": value}
        yield f"table {name} filtered by {column}: count", f"select count(*) from {t} {where}", {"v": value}
        counted = _one(conn, "select count(*) from facet_pair_counts where tbl = "
                       f"'{name}' and filter_col = '{column}'")
        for other in facets:
            if counted:  # plugins/precomputed_facets.py reads the build's counts
                yield (f"table {name} filtered by {column}: facet {other} (build)",
                       "select value, count from facet_pair_counts where tbl = :tbl and filter_col = :f and "
                       f"filter_value = :v and col = :col order by count desc, value limit {FACET_LIMIT}",
                       {"tbl": name, "f": column, "v": str(value), "col": other})
                continue
            yield (f"table {name} filtered by {column}: facet {other}",
                   f"select {_q(other)} as value, count(*) as count from (select * from {t} {where}) "
                   f"where {_q(other)} is not null group by {_q(other)} order by count desc, value "
                   f"limit {FACET_LIMIT}", {"v": value})
    if len(resource.primary_key) == 1:
        key = resource.primary_key[0]
        value = _one(conn, f"select {_q(key)} from {t} limit 1")
        yield f"row {name}", f"select * from {t} where {_q(key)} = :id", {"id": value}
        for other in package.resources:
            for fk in other.foreign_keys:
                if fk.resource == name and len(fk.fields) == 1:
                    yield (f"row {name}: links from {other.name}.{fk.fields[0]}",
                           f"select count(*) from {_q(other.name)} where {_q(fk.fields[0])} = :id", {"id": value})
    if any(f.searchable for f in resource.fields):
        fts = _q(resource.name + "_fts")
        match = f"rowid in (select rowid from {fts} where {fts} match :q)"
        yield (f"table {name} search", f"select * from {t} where {match} order by {pk} limit {PAGE_SIZE}",
               {"q": "huurders"})


def scans(conn: sqlite3.Connection, sql: str, params: dict[str, Any], large: set[str],
          limited: bool = False) -> list[str]:
    """The plan's scans of large tables (by name or alias) that are not bounded by a LIMIT. `limited`: the caller
    reads only a page of the answer (Datasette stops a saved query after max_returned_rows). A scan read in the
    order asked stops after the page; one that feeds a sort or a grouping reads every row first. (A sort of the
    "right part" of the order only orders rows that share the first sort value, read in order.) A sort counts for
    the scans of its own select and of the selects inside it, not for another branch of a UNION ALL: a saved
    query may have one branch per parameter, each reading its own index, merged in order."""
    plan = list(conn.execute("explain query plan " + sql, params))
    parents = {row[0]: row[1] for row in plan}

    def within(node: int, ancestor: int) -> bool:
        while True:
            if node == ancestor:
                return True
            if node not in parents or node == 0:
                return ancestor == 0
            node = parents[node]

    sorts = [row[1] for row in plan if FULL_SORT.search(row[3])]
    paged = limited or " limit " in sql.lower()
    aliases = {alias: table for table, alias in
               re.findall(r"\b(?:from|join)\s+\"?(\w+)\"?\s+(?:as\s+)?(\w+)", sql, flags=re.IGNORECASE)}
    found = []
    for _id, parent, _unused, step in plan:
        match = SCAN.search(step)
        if not match or match.group(1).startswith(("CONSTANT", "SUBQUERY")) or "VIRTUAL TABLE" in step:
            continue
        table = aliases.get(match.group(1), match.group(1))
        sorted_after = any(within(parent, sort_parent) for sort_parent in sorts)
        if table in large and not (paged and not sorted_after):
            found.append(step)
    return found
