"""Default facets of an unfiltered table page from the counts the build made (loaders/aggregates.py).

Every table page shows the facets datapackage.yaml (and metadata.yml for views) declares; Datasette computes each
with a GROUP BY over all rows, on every request: about 280 ms per table page at 340,000 agreements. The database
is immutable, so for a page without filters the build has counted them already, in `facet_counts`.

Datasette's column facet is replaced by a subclass that answers exactly that facet query from `facet_counts`
when the page is unfiltered and the column was counted; anything else (a filter, a search, a column the build
did not count, a Datasette whose facet SQL reads differently) runs Datasette's own query, bounded by
facet_time_limit_ms as before. The result is the same list in the same order: count descending, then value.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.plugins import pm
from datasette.utils import detect_json1, escape_sqlite

from loaders.aggregates import FACET_COUNTS

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


async def counted_columns(datasette: Any, database: str) -> set[tuple[str, str]]:
    """The (table, column) pairs the build counted; none for a database without facet_counts."""
    cache: dict[str, set[tuple[str, str]]] = datasette.__dict__.setdefault("_precomputed_facets", {})
    if database not in cache:
        db = datasette.get_database(database)
        found: set[tuple[str, str]] = set()
        if await db.table_exists(FACET_COUNTS):
            found = {(r[0], r[1]) for r in await db.execute(f"select distinct tbl, col from {FACET_COUNTS}")}
        cache[database] = found
    return cache[database]


class _CountsFromBuild:
    """Stands in for the Datasette while ColumnFacet runs: its facet queries read `facet_counts`."""

    def __init__(self, datasette: Any, table: str, answers: dict[str, tuple[str, int]]) -> None:
        self._datasette = datasette
        self._table = table
        self._answers = answers  # the exact facet SQL -> (column, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datasette, name)

    async def execute(self, database: str, sql: str, params: Any = None, **kwargs: Any) -> Any:
        if sql in self._answers:
            column, limit = self._answers[sql]
            return await self._datasette.execute(database, COUNTS_SQL,
                                                 {"tbl": self._table, "col": column, "limit": limit})
        return await self._datasette.execute(database, sql, params, **kwargs)


class PrecomputedColumnFacet(ColumnFacet):  # type: ignore[misc]
    """Datasette's column facet, with an unfiltered table's counts read from the build."""

    def unfiltered(self) -> bool:
        return bool(self.table) and not self.params and \
            self.sql.rstrip().endswith(" from " + escape_sqlite(self.table))

    async def facet_results(self) -> Any:
        if not self.unfiltered():
            return await super().facet_results()
        counted = await counted_columns(self.ds, self.database)
        limit = self.get_facet_size() + 1
        answers = {}
        for config in self.get_configs():
            # A config without a column is left to Datasette, which answers it with its own 400.
            column = config["config"].get("column") or config["config"].get("simple")
            if (self.table, column) in counted:
                sql = FACET_SQL.format(col=escape_sqlite(column), sql=self.sql, limit=limit)
                answers[sql] = (column, limit)
        datasette = self.ds
        self.ds = _CountsFromBuild(datasette, self.table, answers)
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
