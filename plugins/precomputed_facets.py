"""Default facets of an unfiltered table page from the counts the build made (loaders/aggregates.py).

Every table page shows the facets datapackage.yaml (and metadata.yml for views) declares; Datasette computes each
with a GROUP BY over all rows, on every request: about 280 ms per table page at 340,000 agreements. The database
is immutable, so for a page without filters the build has counted them already, in `facet_counts`.

Datasette's column facet is replaced by a subclass that answers exactly that facet query from `facet_counts`
when the page is unfiltered and the column was counted, and from `facet_pair_counts` when the page has one exact
filter on a text facet column with few values (`?kind=...`: such a filter keeps a large share of the rows);
anything else (other filters, a search, a column the build did not count, a Datasette whose facet SQL reads
differently) runs Datasette's own query through the column's index, bounded by facet_time_limit_ms as before.
The result is the same list in the same order: count descending, then value.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.plugins import pm
from datasette.utils import detect_json1, escape_sqlite

from loaders.aggregates import FACET_COUNTS, FACET_PAIRS

# Datasette's own module registers ColumnFacet; this plugin registers the three facet classes instead.
if pm.get_plugin("datasette.facets") is not None:
    pm.unregister(name="datasette.facets")

# The query Datasette's ColumnFacet.facet_results runs (datasette/facets.py, 0.65), reproduced to recognise it.
FACET_SQL = """
                select {col} as value, count(*) as count from (
                    {sql}
                )
                where {col} is not null
                group by {col} order by count desc, value limit {limit}
            """
COUNTS_SQL = f"select value, count from {FACET_COUNTS} where tbl = :tbl and col = :col " \
    "order by count desc, value limit :limit"
PAIRS_SQL = f"select value, count from {FACET_PAIRS} where tbl = :tbl and filter_col = :filter_col " \
    "and filter_value = :filter_value and col = :col order by count desc, value limit :limit"
# The table SQL of a page with one exact filter (?column=value), as Datasette writes it.
CANONICAL_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
MAX_KEPT = 10_000
ONE_FILTER = re.compile(r'.* from (?P<table>\S+) where "(?P<column>[^"]+)" = :p0', re.DOTALL)


async def counted(datasette: Any, database: str, table: str) -> set[tuple[str | None, str]]:
    """What the build counted: (None, column) for the unfiltered facets, (filter column, column) for pairs."""
    cache: dict[tuple[str, str], set[tuple[str | None, str]]] = \
        datasette.__dict__.setdefault("_precomputed_facets", {})
    if (database, table) not in cache:
        db = datasette.get_database(database)
        found: set[tuple[str | None, str]] = set()
        if await db.table_exists(FACET_COUNTS):
            found |= {(None, r[0]) for r in await db.execute(
                f"select distinct col from {FACET_COUNTS} where tbl = ?", [table])}
        if await db.table_exists(FACET_PAIRS):
            found |= {(r[0], r[1]) for r in await db.execute(
                f"select distinct filter_col, col from {FACET_PAIRS} where tbl = ?", [table])}
        cache[(database, table)] = found
    return cache[(database, table)]


def answers_kept(datasette: Any) -> dict[tuple[Any, ...], Any]:
    """Per Datasette instance: the build's counts and their labels already read (the database is immutable)."""
    kept: dict[tuple[Any, ...], Any] = datasette.__dict__.setdefault("_precomputed_facet_answers", {})
    return kept


def _keep(kept: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> Any:
    if len(kept) < MAX_KEPT:  # bounded: filter values come from the visitor
        kept[key] = value
    return value


class _CountsFromBuild:
    """Stands in for the Datasette while ColumnFacet runs: its facet queries read the build's counts, and both the
    counts and the labels of their values are read once per process, not once per request (each is a trip to a
    SQL thread, and a label lookup also reads the table's foreign keys)."""

    def __init__(self, datasette: Any, answers: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self._datasette = datasette
        self._answers = answers  # the exact facet SQL -> (the SQL that reads the counts, its parameters)
        self._kept = answers_kept(datasette)
        self._site: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datasette, name)

    async def execute(self, database: str, sql: str, params: Any = None, **kwargs: Any) -> Any:
        if sql not in self._answers:
            return await self._datasette.execute(database, sql, params, **kwargs)
        counts_sql, counts_params = self._answers[sql]
        key = ("counts", database, counts_sql, tuple(sorted(counts_params.items())))
        if key not in self._kept:
            return _keep(self._kept, key, await self._datasette.execute(database, counts_sql, counts_params))
        return self._kept[key]

    def absolute_url(self, request: Any, path: str) -> str:
        """Datasette's absolute_url for the facets' toggle links, with the site part worked out once per page
        instead of an urljoin per value (a hundred per page); a path urljoin would change is left to it."""
        plain = str(path)
        if not plain.startswith("/") or plain.startswith("//") or "/." in plain.split("?", 1)[0]:
            return str(self._datasette.absolute_url(request, path))
        if self._site is None:
            self._site = str(self._datasette.absolute_url(request, "/"))[:-1]
        return self._site + plain

    async def expand_foreign_keys(self, database: str, table: str, column: str, values: list[Any]) -> Any:
        key = ("labels", database, table, column, tuple(values))
        if key not in self._kept:
            return _keep(self._kept, key,
                         await self._datasette.expand_foreign_keys(database, table, column, values))
        return self._kept[key]


class PrecomputedColumnFacet(ColumnFacet):  # type: ignore[misc]
    """Datasette's column facet, with the counts of an unfiltered page, or of a page filtered on one facet
    column with few values, read from the build."""

    def filter_column(self) -> tuple[bool, str | None]:
        """(whether the build may have these counts, the column of the one exact filter or None)."""
        if not self.table:
            return False, None
        table = escape_sqlite(self.table)
        if not self.params:
            return self.sql.rstrip().endswith(" from " + table), None
        match = ONE_FILTER.fullmatch(self.sql.rstrip())
        if match and match["table"] == table and set(self.params) == {"p0"} and isinstance(self.params["p0"], str):
            return True, match["column"]
        return False, None

    async def same_as_stored(self, column: str, value: str) -> bool:
        """Whether `column = value` selects exactly the rows whose value the build wrote as this text: always for
        a text column; for an integer column only when the value is written as SQLite writes it (not 01, 1.0)."""
        types = {c.name: (c.type or "").upper() for c in
                 await self.ds.get_database(self.database).table_column_details(self.table)}
        kind = types.get(column)
        return kind == "TEXT" or (kind == "INTEGER" and bool(CANONICAL_INTEGER.fullmatch(value)))

    async def facet_results(self) -> Any:
        usable, filter_column = self.filter_column()
        if filter_column is not None and usable:
            usable = await self.same_as_stored(filter_column, self.params["p0"])
        if not usable:
            return await super().facet_results()
        known = await counted(self.ds, self.database, self.table)
        limit = self.get_facet_size() + 1
        answers = {}
        for config in self.get_configs():
            # A config without a column is left to Datasette, which answers it with its own 400.
            column = config["config"].get("column") or config["config"].get("simple")
            if (filter_column, column) not in known:
                continue
            sql = FACET_SQL.format(col=escape_sqlite(column), sql=self.sql, limit=limit)
            params = {"tbl": self.table, "col": column, "limit": limit}
            if filter_column is None:
                answers[sql] = (COUNTS_SQL, params)
            else:
                answers[sql] = (PAIRS_SQL, {**params, "filter_col": filter_column, "filter_value": self.params["p0"]})
        datasette = self.ds
        self.ds = _CountsFromBuild(datasette, answers)
        try:
            return await super().facet_results()
        finally:
            self.ds = datasette


@hookimpl
def register_facet_classes() -> list[type]:
    classes: list[type] = [PrecomputedColumnFacet, DateFacet]
    if detect_json1():
        classes.append(ArrayFacet)
    return classes
