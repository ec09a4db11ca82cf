"""A later page of a table (`?_next=`) shows the same facet counts as the first: the counts of the rows the page's
filters select, which is also the row count the page states. Datasette 0.65 counted them over the rows after the
previous page only, so they changed from page to page (and, at national scale, missed the build's counts and ran
live); a view's later pages, paged by offset, always counted the whole view."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from loaders.schema import Package

DB = "prestatieafspraken"
FRESH = {"Cache-Control": "no-cache"}  # computed in full, not answered from plugins/page_cache.py's store


@pytest.fixture(scope="module")
def asked(package: Package) -> str:
    """The facets the schema gives the agreements page, asked for by name (a JSON answer has them only then)."""
    return "&".join(f"_facet={f.name}" for f in package.resource("agreements").fields if f.facet)


def facets(page: dict[str, Any]) -> dict[str, dict[Any, int]]:
    return {name: {item["value"]: item["count"] for item in facet["results"]}
            for name, facet in page["facet_results"].items()}


async def pages(ds: Datasette, table: str, query: str) -> tuple[dict[str, Any], dict[str, Any]]:
    first = (await ds.client.get(f"/{DB}/{table}.json?_size=2&{query}", headers=FRESH)).json()
    assert first["facet_results"], "the query asks for facets"
    assert first["next"], "the selection needs a second page"
    second = (await ds.client.get(f"/{DB}/{table}.json?_size=2&{query}&_next={first['next']}",
                                  headers=FRESH)).json()
    assert second["rows"] and second["rows"] != first["rows"]
    return first, second


def live_counts(db_path: Path, table: str, column: str, where: str = "1", params: tuple[Any, ...] = ()) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute(f'select "{column}", count(*) from "{table}" where {where} and "{column}" is not '
                                 f'null group by "{column}"', params).fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("query", ["", "_sort=title_nl", "_sort_desc=title_nl", "kind=actiepunt",
                                   "kind=actiepunt&_sort=title_nl"])
async def test_a_later_page_counts_the_whole_selection(ds: Datasette, db_path: Path, asked: str,
                                                      query: str) -> None:
    first, second = await pages(ds, "agreements", f"{asked}&{query}")
    assert facets(second) == facets(first)
    assert "kind" in facets(second)
    where, params = ("kind = ?", ("actiepunt",)) if "kind=" in query else ("1", ())
    assert facets(second)["kind"] == live_counts(db_path, "agreements", "kind", where, params)
    assert sum(facets(second)["kind"].values()) == second["filtered_table_rows_count"]


@pytest.mark.parametrize("condition", ["kind__in={kind}", "_where=(kind = '{kind}')"])
async def test_a_filter_that_ends_in_a_bracket_is_kept(ds: Datasette, db_path: Path, condition: str) -> None:
    """These filters end the SQL in `)` like the page condition does; with a `_next` of the wrong shape Datasette
    adds no page condition, and the filter must not be taken for one."""
    conn = sqlite3.connect(db_path)
    (kind,) = conn.execute("select kind from agreements group by kind order by count(*) limit 1").fetchone()
    conn.close()
    page = (await ds.client.get(f"/{DB}/agreements.json?{condition.format(kind=kind)}&_facet=kind&_next=a,b,c",
                                headers=FRESH)).json()
    assert facets(page)["kind"] == live_counts(db_path, "agreements", "kind", "kind = ?", (kind,))


def test_only_the_page_condition_is_taken_off() -> None:
    plugin: Any = pm.get_plugin("precomputed_facets.py")
    from datasette.utils import compound_keys_after_sql

    keyset = compound_keys_after_sql(["id"], 1)
    assert plugin.without_keyset(f'select * from t where "kind" = :p0 and {keyset} ', {"p0": "a", "p1": "x"},
                                 ["id"]) == ('select * from t where "kind" = :p0 ', {"p0": "a"})
    assert plugin.without_keyset(f"select * from t where {compound_keys_after_sql(['id'], 0)} ", {"p0": "x"},
                                 ["id"]) == ("select * from t ", {})
    # A filter in brackets, a clause that is not the last one's parameters, a table without a key: left alone.
    assert plugin.without_keyset('select * from t where "kind" in (:p0, :p1) ', {"p0": "a", "p1": "b"}, ["id"]) is None
    assert plugin.without_keyset('select * from t where ("kind" = :p0) ', {"p0": "a"}, ["id"]) is None
    assert plugin.without_keyset(f"select * from t where {keyset} and x = :p0 ", {"p0": 1, "p1": "x"}, ["id"]) is None
    assert plugin.without_keyset("select * from t where (rowid > :p0) ", {"p0": 3}, []) is None
