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

The facets the schema declares belong to the table page a person reads. An answer for a program or a download
(`.json`, `.excel`, any other format; Datasette's own CSV already skips facets) carries only the facets it asks for
with `?_facet=`, as Datasette 1.0 does (its JSON has facets only on request): the toggle links of every value (about
70 on `documents.json`) that no program reads took up to a third of a JSON page's time.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.plugins import pm
from datasette.utils import compound_keys_after_sql, detect_json1, escape_sqlite

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
PARAMETER = re.compile(r":(p[0-9]+)\b")
PARAMETER_NAME = re.compile(r"p[0-9]+")
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


def without_keyset(sql: str, params: dict[str, Any], pks: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The facet SQL of a later page of a table (`?_next=`) without the condition that starts the page after the
    previous one's last row, and without its parameters; None when the SQL is not in the form Datasette 0.65 writes.

    Datasette counts a later page's facets over the rows after that key only, while the page says how many rows
    the whole selection has (and a view's later pages, paged by offset, count the whole view): facet counts that
    change from page to page and add up to less than the total. They also no longer match the build's counts, so
    at bench scale 1000 each default facet ran live up to facet_time_limit_ms. Datasette appends that condition
    last, as one parenthesised clause with the last parameters (p0, p1, ...), built around its comparison of the
    primary keys (`compound_keys_after_sql`); a clause without that comparison is a filter, and is kept."""
    text = sql.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for start in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[start], 0)
        if depth == 0:
            break
    else:
        return None
    clause, before = text[start:], text[:start]
    if before.endswith(" and "):
        kept_sql = before[: -len(" and ")] + " "
    elif before.endswith(" where "):
        kept_sql = before[: -len(" where ")] + " "
    else:
        return None
    used = set(PARAMETER.findall(clause))
    names = sorted(params, key=lambda name: int(name[1:]) if PARAMETER_NAME.fullmatch(name) else -1)
    if not used or not all(PARAMETER_NAME.fullmatch(name) for name in names):
        return None
    later = names[len(names) - len(used):]
    if set(later) != used or used & set(PARAMETER.findall(kept_sql)) or not pks:
        return None
    first = min(int(name[1:]) for name in used)  # the keys' parameters come first, a sort value's after them
    if compound_keys_after_sql(pks, first) not in clause:
        return None
    return kept_sql, {name: value for name, value in params.items() if name not in used}


class SchemaFacetsOnPagesOnly:
    """Mixed into each facet class: the schema's facets (source "metadata") only on the HTML page; `?_facet=`
    (source "request") everywhere."""

    request: Any

    def get_configs(self) -> list[dict[str, Any]]:
        configs: list[dict[str, Any]] = super().get_configs()  # type: ignore[misc]
        if self.request is None or self.request.url_vars.get("format") is None:
            return configs
        return [config for config in configs if config["source"] != "metadata"]


class PageDateFacet(SchemaFacetsOnPagesOnly, DateFacet):  # type: ignore[misc]
    """Datasette's date facet, with the schema's date facets on the HTML page only."""


class PageArrayFacet(SchemaFacetsOnPagesOnly, ArrayFacet):  # type: ignore[misc]
    """Datasette's array facet, with the schema's array facets on the HTML page only."""


class PrecomputedColumnFacet(SchemaFacetsOnPagesOnly, ColumnFacet):  # type: ignore[misc]
    """Datasette's column facet, with the counts of an unfiltered page, or of a page filtered on one facet
    column with few values, read from the build; on a later page of a table, over the whole selection as on the
    first page."""

    async def whole_selection(self) -> None:
        """On a later page of a table, count the facets over the rows the page's filters select, not only over the
        rows after the previous page (see without_keyset); left as Datasette wrote it if the form is unexpected.
        A view's later pages are paged by offset, and already counted over the whole view."""
        if self.request is None or not self.request.args.get("_next") or not self.table:
            return
        db = self.ds.get_database(self.database)
        if not await db.table_exists(self.table):
            return
        found = without_keyset(self.sql, dict(self.params or {}), await db.primary_keys(self.table))
        if found is not None:
            self.sql, self.params = found

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
        await self.whole_selection()
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
    classes: list[type] = [PrecomputedColumnFacet, PageDateFacet]
    if detect_json1():
        classes.append(PageArrayFacet)
    return classes
