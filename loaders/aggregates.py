"""Build-time work for the served site: indexes, aggregate tables and facet counts (issue #16).

The database is immutable once built, so every count a page would compute on each request is computed here, once:

- covering indexes (loaders/aggregates.yaml) for the joins and groupings of the saved queries (build.py indexes
  every column a table page sorts or filters on);
- aggregate tables (loaders/aggregates.yaml) that the summarising saved queries and the charts read instead of
  every row;
- `chart_rows`: the rows each chart draws (loaders/chart_rows.py);
- substring indexes (FTS5 trigram, loaders/aggregates.yaml) for a saved query's `like '%word%'` filter;
- `facet_counts`: for every default facet of a table (`facet: true` in datapackage.yaml) or view (`facets` in
  metadata.yml), the count of each value over all rows, which plugins/precomputed_facets.py serves for an
  unfiltered table page instead of grouping millions of rows per request, and `facet_pair_counts`, the same
  for a page filtered on one facet column with few values;
- the site search index (loaders/site_search.py);
- the row count of every table and view, for Datasette's inspect data (loaders/site_files.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlite_utils.db import Database, quote_identifier

from .chart_rows import create_chart_rows
from .facet_counting import count_pairs, grouped_pairs
from .load import PROGRESS_SECONDS
from .place_mentions import create_figures_per_place
from .schema import PROJECT_ROOT, Package
from .site import DATABASE
from .site_search import create_site_search
from .yaml_files import load_yaml

AGGREGATES_FILE = Path(__file__).with_name("aggregates.yaml")
FACET_COUNTS = "facet_counts"
FACET_PAIRS = "facet_pair_counts"
# A filter on a column with at most this many values keeps a large share of the rows, so SQLite groups them by
# walking a whole index; for those filters the build counts the other facets per value too.
FEW_VALUES = 100


@cache
def definitions() -> dict[str, Any]:
    with AGGREGATES_FILE.open(encoding="utf-8") as f:
        return dict(load_yaml(f))


def view_facets(root: Path) -> dict[str, list[str]]:
    """The default facets metadata.yml declares for views (the tables' own come from datapackage.yaml)."""
    from .site_metadata import METADATA_FILE, hand_written  # here: site_metadata names this module's tables

    if not (root / METADATA_FILE).is_file():
        return {}
    metadata = hand_written(root)  # its database key is `${database}`, filled in there
    tables = ((metadata.get("databases") or {}).get(DATABASE) or {}).get("tables") or {}
    return {name: list(spec.get("facets") or []) for name, spec in tables.items() if isinstance(spec, dict)}


def default_facets(package: Package, root: Path) -> Iterator[tuple[str, str]]:
    """(table or view, column) for every facet a table page shows without being asked. `root` holds the site's
    metadata.yml (the project, not the data package: views and their facets belong to the site)."""
    for resource in package.resources:
        for field in resource.fields:
            if field.facet:
                yield resource.name, field.name
    for view, columns in view_facets(root).items():
        for column in columns:
            yield view, column


def _index(db: Database, table: str, columns: list[str], where: str | None = None) -> None:
    """An index on columns or on terms as SQL writes them (`lower(municipality)`: a filter that ignores case uses
    it; `year desc`: an order that runs backwards); with `where`, a partial index of the rows a query reads."""
    name = "idx_" + table + "_" + "_".join(re.sub(r"\W+", "_", c).strip("_") for c in columns)
    if where:
        name += "_where_" + re.sub(r"\W+", "_", where).strip("_")
    terms = ", ".join(quote_identifier(c) if re.fullmatch(r"\w+", c) else c for c in columns)
    db.execute(f"CREATE INDEX IF NOT EXISTS {quote_identifier(name)} ON {quote_identifier(table)} ({terms})"
               + (f" WHERE {where}" if where else ""))


def create_indexes(db: Database) -> None:
    for spec in definitions().get("indexes") or []:
        _index(db, spec["table"], list(spec["columns"]), spec.get("where"))


# Aggregate tables computed in Python (aggregates.yaml `computed:`), where one SQL statement would be slow.
COMPUTED: dict[str, Callable[[Database, str], None]] = {"figures_per_place": create_figures_per_place}


def create_aggregate_tables(db: Database) -> None:
    for name, spec in (definitions().get("tables") or {}).items():
        if "computed" in spec:
            COMPUTED[spec["computed"]](db, name)
        else:
            db.execute(f"CREATE TABLE {quote_identifier(name)} AS {spec['sql']}")
        for columns in spec.get("index") or []:
            _index(db, name, list(columns))


FTS5_SHADOW_TABLES = ("_data", "_idx", "_docsize", "_config")


def substring_index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trigram"


def substring_index_tables() -> list[str]:
    """Every table the substring indexes make: the FTS5 tables and their shadow tables (external content: no
    _content table)."""
    names = [substring_index_name(spec["table"], spec["column"])
             for spec in definitions().get("substring_indexes") or []]
    return [name + suffix for name in names for suffix in ("", *FTS5_SHADOW_TABLES)]


def create_substring_indexes(db: Database) -> None:
    """FTS5 trigram indexes over single columns (aggregates.yaml `substring_indexes`): `column like '%word%'` on
    the index finds the rows containing a word of three or more characters without reading every row. Its case
    folding is Unicode's, so it finds a superset of what SQLite's LIKE finds: a query keeps its own LIKE as
    well. `content='table'` in single quotes, so Datasette does not take it for the table's search index."""
    for spec in definitions().get("substring_indexes") or []:
        table, column = quote_identifier(spec["table"]), quote_identifier(spec["column"])
        name = quote_identifier(substring_index_name(spec["table"], spec["column"]))
        db.execute(f"CREATE VIRTUAL TABLE {name} USING fts5({column}, content='{spec['table']}', "
                   "tokenize='trigram')")
        db.execute(f"INSERT INTO {name}(rowid, {column}) SELECT rowid, {column} FROM {table}")


def create_facet_counts(db: Database, facets: list[tuple[str, str]]) -> None:
    """One row per (table, column, value) with its count; `value` has no type, so it keeps the column's. Each a
    GROUP BY, which walks the column's own index (build.py indexes every facet column) without a sort."""
    db.execute(f"CREATE TABLE {FACET_COUNTS} (tbl TEXT NOT NULL, col TEXT NOT NULL, value, count INTEGER NOT NULL)")
    for table, column in facets:
        col = quote_identifier(column)
        db.execute(
            f"INSERT INTO {FACET_COUNTS} SELECT ?, ?, {col}, count(*) FROM {quote_identifier(table)} "
            f"WHERE {col} IS NOT NULL GROUP BY {col}", [table, column])
    # The order Datasette shows a facet in: most frequent first, then by value.
    db.execute(f"CREATE INDEX idx_{FACET_COUNTS} ON {FACET_COUNTS} (tbl, col, count DESC, value)")


def create_facet_pair_counts(db: Database, facets: list[tuple[str, str]]) -> None:
    """The default facets of a table page filtered on one facet column with few values (`?kind=...`): one row
    per (table, filter column, filter value, column, value) with its count. The filter value is stored as text,
    as it comes from the URL (plugins/precomputed_facets.py uses an integer column's counts only for a value
    written the way SQLite writes that integer). A GROUP BY per pair sorts every row of the table once per pair
    (some 40 sorts of up to 2 million rows at bench scale 1000); here each table is read once and every pair
    counted on the way (loaders/facet_counting.py), with the same rows in the same order."""
    db.execute(f"CREATE TABLE {FACET_PAIRS} (tbl TEXT NOT NULL, filter_col TEXT NOT NULL, filter_value TEXT, "
               "col TEXT NOT NULL, value, count INTEGER NOT NULL)")
    by_table: dict[str, list[str]] = {}
    for table, column in facets:
        by_table.setdefault(table, []).append(column)
    for table, columns in by_table.items():
        t = quote_identifier(table)
        types = {r[1]: (r[2] or "").upper() for r in db.execute(f"PRAGMA table_info({t})").fetchall()}
        few = [column for column in columns if types.get(column) in ("TEXT", "INTEGER") and db.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {quote_identifier(column)} FROM {t} LIMIT {FEW_VALUES + 1})"
        ).fetchone()[0] <= FEW_VALUES]
        if not few:
            continue
        pairs = count_pairs(db, table, columns, [(column, other) for column in few for other in columns])
        for (column, other), counter in pairs.items():
            db.conn.executemany(f"INSERT INTO {FACET_PAIRS} VALUES (?, ?, ?, ?, ?, ?)",
                                ((table, column, value, other, other_value, n)
                                 for value, other_value, n in grouped_pairs(counter)))
    db.execute(f"CREATE INDEX idx_{FACET_PAIRS} ON {FACET_PAIRS} (tbl, filter_col, filter_value, col, count DESC, "
               "value)")


def row_counts(db: Database) -> dict[str, int]:
    """The row count of every table and view (views too: their table page counts them on every request)."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                      "AND name NOT LIKE 'sqlite_%'").fetchall()]
    return {name: db.execute(f"SELECT count(*) FROM {quote_identifier(name)}").fetchone()[0] for name in names}


def prepare_serving(db: Database, package: Package, progress: Callable[[str], None] = print) -> None:
    """Everything the site reads instead of computing per request; call once the rows, indexes and views exist.
    Like the loader's, its progress line is only for a build long enough to want one."""
    started = time.monotonic()
    with db.atomic():
        create_indexes(db)
        create_aggregate_tables(db)
        create_chart_rows(db)
        create_substring_indexes(db)
        facets = list(dict.fromkeys(default_facets(package, PROJECT_ROOT)))
        create_facet_counts(db, facets)
        create_facet_pair_counts(db, facets)
        create_site_search(db, package)
    seconds = time.monotonic() - started
    if seconds > PROGRESS_SECONDS:
        progress(f"indexes, aggregate tables, chart rows, substring indexes, facet counts and the site search index in "
                 f"{seconds:,.1f} s")
