"""Searches stay bounded whatever is typed (issue #16), and still find the right rows first.

A common word or a short beginning matches most entries of the site search index at national scale; what these
tests hold: no prefix query reaches FTS5 (each word becomes at most TERMS_PER_WORD whole words), a page shows and
counts a bounded number, the saved question returns at most 200 rows, a table page's `_search` reads at most
MAX_MATCHES matches, and a row whose label holds the words comes first. Values come from the built database.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from bench.plans import connect, scans
from loaders.search_match import TERMS_PER_WORD, bounded_match, words
from tests.conftest import ask

DB = "prestatieafspraken"
COMMON = ["e", "de", "huurders", "de e"]


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    return connect(db_path)


def a_label(conn: sqlite3.Connection, table: str, column: str) -> tuple[str, str]:
    """A row of the table whose label has a word of five letters or more: (its key, that word)."""
    for key, label in conn.execute(f"select id, {column} from {table} order by id"):
        long_words = [w for w in words(label) if len(w) >= 5]
        if long_words:
            return key, long_words[0]
    raise AssertionError(f"no label in {table} to search for")


@pytest.mark.parametrize("q", COMMON)
def test_every_word_becomes_a_few_whole_words_never_a_prefix_query(conn: sqlite3.Connection, q: str) -> None:
    query = bounded_match(conn, q)
    assert "*" not in query  # a prefix query makes FTS5 build its whole match list first
    groups = query.split(" AND ")
    assert len(groups) == len(words(q))
    assert all(1 <= g.count('"') // 2 <= TERMS_PER_WORD for g in groups), query
    assert conn.execute("select count(*) from site_search where site_search match ?", [query]).fetchone()[0] > 0


def test_a_word_nothing_starts_with_matches_nothing(conn: sqlite3.Connection) -> None:
    assert conn.execute("select count(*) from site_search where site_search match ?",
                        [bounded_match(conn, "qqzzxx huurders")]).fetchone()[0] == 0


def test_each_tables_entries_are_its_rowid_range(conn: sqlite3.Connection) -> None:
    ranges = conn.execute("select tbl, first_rowid, last_rowid from site_search_tables order by first_rowid").fetchall()
    assert ranges[0][1] == 1
    assert all(a[2] + 1 == b[1] for a, b in itertools.pairwise(ranges))
    for table, first, last in ranges:
        counted = conn.execute("select count(*), min(tbl), max(tbl) from site_search where rowid between ? and ?",
                               [first, last]).fetchone()
        assert counted == (last - first + 1, table, table)


def test_the_saved_search_plan_reads_entries_by_rowid(conn: sqlite3.Connection) -> None:
    from loaders.queries import load_queries
    from loaders.schema import PROJECT_ROOT

    sql = load_queries(PROJECT_ROOT)["search"]["sql"]
    plan = " | ".join(row[3] for row in conn.execute("explain query plan " + sql, {"q": "e"}))
    assert "SCAN s VIRTUAL TABLE INDEX 0:=" in plan  # each candidate looked up by its rowid
    assert "INDEX 0:M" in plan and "><" in plan  # the match bounded by a table's rowid range
    assert scans(conn, sql, {"q": "e"}, {"site_search"}, limited=True) == []


@pytest.mark.parametrize("q", COMMON)
async def test_the_saved_search_returns_a_bounded_answer(ds: Datasette, q: str) -> None:
    rows = await ask(ds, "search", q=q)
    assert 0 < len(rows) <= 200
    assert all(r["link"].startswith(f"/{DB}/") and r["kind"] and r["title"] is not None for r in rows)


async def test_the_saved_search_puts_a_row_named_so_first(ds: Datasette, conn: sqlite3.Connection) -> None:
    key, word = a_label(conn, "partners", "name")
    rows = await ask(ds, "search", q=word)
    assert rows and word in words(rows[0]["title"])
    assert f"/{DB}/partners/{key}" in {r["link"] for r in rows}


async def test_the_site_search_shows_and_counts_a_bounded_number(ds: Datasette, monkeypatch: pytest.MonkeyPatch,
                                                                 conn: sqlite3.Connection) -> None:
    page_module: Any = pm.get_plugin("search_page.py")
    monkeypatch.setattr(page_module, "COUNT_CAP", 3)
    page = (await ds.client.get("/-/zoeken", params={"q": "de"})).text
    sections = re.findall(r'<section aria-labelledby="t-(\w+)">(.*?)</section>', page, re.DOTALL)
    assert sections
    assert all(len(re.findall(r"<li>", body)) <= page_module.HITS_PER_TABLE for _t, body in sections)
    assert "meer dan 3" in page
    key, word = a_label(conn, "partners", "name")
    found = (await ds.client.get("/-/zoeken", params={"q": word})).text
    assert f'href="/{DB}/partners/{key}"' in found


async def test_a_table_search_reads_at_most_max_matches(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    search_plugin: Any = pm.get_plugin("bounded_search.py")
    full = (await ds.client.get(f"/{DB}/agreements.json", params={"_search": "de", "_size": 1})).json()
    assert full["filtered_table_rows_count"] > 3
    monkeypatch.setattr(search_plugin, "MAX_MATCHES", 3)
    bounded = (await ds.client.get(f"/{DB}/agreements.json", params={"_search": "de", "_nofacet": 1},
                                   headers={"Cache-Control": "no-cache"})).json()
    assert bounded["filtered_table_rows_count"] == 3
    assert "the first 1,000 matches" in full["human_description_en"]
    assert len(bounded["rows"]) == 3


async def test_the_site_search_stops_at_the_query_time_limit(db_path: Path, conn: sqlite3.Connection) -> None:
    """Many common words at once make long intersections; /-/zoeken is held to sql_time_limit_ms like any query
    and answers with the site's 400 page instead of running on."""
    from tests.conftest import make_datasette

    label = conn.execute("select label from site_search where label is not null limit 1").fetchone()[0]
    site = make_datasette(db_path)
    found = await site.client.get("/-/zoeken", params={"q": label})
    assert found.status_code == 200
    site._settings["sql_time_limit_ms"] = 0  # every search now runs out of time at once
    # The same search again, computed (no-cache: the answer above is kept by plugins/page_cache.py).
    stopped = await site.client.get("/-/zoeken", params={"q": label}, headers={"Cache-Control": "no-cache"})
    assert stopped.status_code == 400
    assert "<mark>" not in stopped.text and "lang=\"nl\"" in stopped.text


def test_a_link_row_is_found_by_the_labels_of_both_rows_it_links(conn: sqlite3.Connection) -> None:
    """An agreement's partner (a row of the link table agreement_partners) is named by its agreement and its partner:
    a word of each finds it, though the index holds those labels once, as its label."""
    agreement, partner, title, name = conn.execute(
        "select ap.agreement_id, ap.partner_id, a.title_nl, p.name from agreement_partners ap "
        "join agreements a on a.id = ap.agreement_id join partners p on p.id = ap.partner_id "
        "order by ap.agreement_id, ap.partner_id").fetchone()
    agreement_word = max(words(title), key=len)
    partner_word = max(words(name), key=len)
    paths = {path for (path,) in conn.execute(
        "select path from site_search where site_search match ? and tbl = 'agreement_partners'",
        [bounded_match(conn, f"{agreement_word} {partner_word}")])}
    assert f"{agreement},{partner}" in paths
