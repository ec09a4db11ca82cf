"""The rows each chart draws (charts.yml), worked out once at build time.

A chart is bound to a saved query; with `top` in charts.yml it draws only the rows of the query's largest groups
(plugins/charts.py). Choosing those groups reads every row of the query: 73,000 rows and over half a second for
afspraken-per-thema at bench scale 1000, on every first render. The database never changes once built, so the build
stores the rows every chart draws without URL parameters in the table `chart_rows`, with a digest of what chose them
(the query's SQL and the chart's `top`). The plugin reads them there when the digest still matches, and computes
them with the same SQL when it does not (a query or chart changed after the build) or when the URL narrows the chart
(?municipality=: few rows, read through an index).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlite_utils.db import Database, quote_identifier

from .queries import load_queries
from .schema import PROJECT_ROOT
from .yaml_files import load_yaml

CHARTS_FILE = "charts.yml"
TABLE = "chart_rows"


def chart_definitions(root: Path = PROJECT_ROOT) -> list[dict[str, Any]]:
    """The charts of charts.yml, as written."""
    return list(load_yaml((root / CHARTS_FILE).read_text(encoding="utf-8"))["charts"])


@cache
def served_charts_by_query() -> dict[str, dict[str, Any]]:
    """The project's charts by the saved question each draws, read once per process (for plugins: charts.yml is
    part of the deployment)."""
    return {chart["query"]: chart for chart in chart_definitions()}


def top_sql(chart: dict[str, Any], sql: str) -> str:
    """The SQL of the rows a chart draws: its saved query's, or, with `top` in charts.yml, only the rows of the
    groups (values of `top.column`, or of several columns together, such as a year and a municipality) with the
    largest sum of `top.by` (or the most rows; ties by value): at most `top.count` groups, and, with `top.rows`, no
    more groups than fit in that many rows together. The image's height, and with it the time to draw it, grows with
    its rows, so a group too large for the image on its own is passed over for the next one that fits; only when no
    group fits (say, the URL chose one large group) is the largest drawn alone. Rows with an empty grouping column
    belong to no group and are never drawn, so they take no group's place. The rows keep the query's order. So a
    chart stays readable, and quick to draw, with data for every municipality."""
    top = chart.get("top")
    if not top:
        return sql
    names = [top["column"]] if isinstance(top["column"], str) else list(top["column"])
    columns = ", ".join(quote_identifier(name) for name in names)
    known = " and ".join(f"{quote_identifier(name)} is not null" for name in names)
    measure = f"sum({quote_identifier(top['by'])})" if top.get("by") else "count(*)"
    rows = int(top["rows"]) if top.get("rows") is not None else None
    order = f"order by top_measure desc, {columns}"
    return (f"with query_rows as materialized ({sql.strip().rstrip(';')}\n), "
            f"top_groups as materialized (select {columns}, count(*) as top_size, {measure} as top_measure "
            f"from query_rows where {known} group by {columns}), "
            f"top_ranked as (select {columns}, row_number() over win as top_place, sum(top_size) over win as top_total "
            f"from top_groups {f'where top_size <= {rows} ' if rows is not None else ''}"
            f"window win as ({order} rows unbounded preceding)), "
            f"top_chosen as (select {columns} from top_ranked where top_place <= {int(top['count'])}"
            f"{f' and top_total <= {rows}' if rows is not None else ''} "
            f"union all select * from (select {columns} from top_groups {order} limit 1) "
            "where not exists (select 1 from top_ranked)) "
            f"select * from query_rows where ({columns}) in (select {columns} from top_chosen)")


def digest(chart: dict[str, Any], sql: str) -> str:
    """What chooses a chart's rows: its query's SQL (parts filled in) and its `top`."""
    return hashlib.sha256(json.dumps({"sql": sql, "top": chart.get("top")}, sort_keys=True).encode()).hexdigest()


def create_chart_rows(db: Database, root: Path = PROJECT_ROOT) -> None:
    """`chart_rows`: per chart (slug) the rows it draws with every query parameter empty, one JSON object per row in
    the query's order (one value per chart would outgrow the server's limit on a value's length, 256 KB, at
    national scale); a chart without rows has one row whose `row` is null, so "none" differs from "not stored"."""
    queries = load_queries(root)
    db.execute(f"CREATE TABLE {TABLE} (chart TEXT NOT NULL, digest TEXT NOT NULL, position INTEGER NOT NULL, "
               "row TEXT, PRIMARY KEY (chart, position))")
    for chart in chart_definitions(root):
        query = queries[chart["query"]]
        cursor = db.execute(top_sql(chart, query["sql"]), {name: "" for name in query.get("params", [])})
        columns = [column[0] for column in cursor.description]
        rows = [json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) for row in cursor] or [None]
        db.conn.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)",
                            [(chart["slug"], digest(chart, query["sql"]), n, row) for n, row in enumerate(rows)])


# The stored rows of one chart (slug, digest): no rows at all when none are stored for that digest.
STORED_SQL = f"select row from {TABLE} where chart = ? and digest = ? order by position"


def stored_rows(values: list[str | None]) -> list[dict[str, Any]] | None:
    """The rows from STORED_SQL's answer (its `row` values): None when nothing was stored."""
    return [json.loads(value) for value in values if value is not None] if values else None
