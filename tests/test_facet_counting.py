"""The build's one-pass counting of facet pairs (loaders/facet_counting.py) gives what SQLite's GROUP BY gives,
row for row and in the same order, and the site search's row paths are Datasette's own
(loaders/site_search.row_path)."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils
from datasette.utils import path_from_row_pks

from loaders import facet_counting
from loaders.site_search import row_path

# Mixed on purpose: NULLs, integers, reals equal to integers, text that sorts differently by code point than by
# locale, non-ASCII text, and a value repeated with different companions.
ROWS = [
    ("b", 2, 1.5), ("a", 2, None), ("B", 10, 1.5), (None, 2, 2.0), ("é", None, 2), ("a", 10, 1.5),
    ("Z", 3, None), ("a", 2, 2), ("ß", 3, 1.5), ("", 3, 0.5), ("a", 2, 1.5), ("10", 10, 2.0),
]


@pytest.fixture()
def db() -> sqlite_utils.Database:
    conn = sqlite3.connect(":memory:")
    # No declared type on `r`: it holds integers and reals side by side, as a view's column can.
    conn.execute("create table t (s TEXT, i INTEGER, r)")
    conn.executemany("insert into t values (?, ?, ?)", ROWS)
    return sqlite_utils.Database(conn)


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_pair_counts_equal_group_by(db: sqlite_utils.Database, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facet_counting, "CHUNK", chunk)
    pairs = [("i", "s"), ("i", "r"), ("i", "i"), ("s", "i")]
    counters = facet_counting.count_pairs(db, "t", ["s", "i", "r"], pairs)
    for a, b in pairs:
        sql = f"select {a}, {b}, count(*) from t where {a} is not null and {b} is not null group by {a}, {b}"
        assert facet_counting.grouped_pairs(counters[(a, b)]) == db.execute(sql).fetchall(), (a, b)


def test_sqlite_order_matches_order_by(db: sqlite_utils.Database) -> None:
    values = [r[0] for r in db.execute("select s from t union all select i from t union all select r from t "
                                       "union all select x'00ff' union all select x'01'")]
    expected = [r[0] for r in db.execute("select v from (select s as v from t union all select i from t "
                                         "union all select r from t union all select x'00ff' union all "
                                         "select x'01') order by v")]
    assert sorted(values, key=facet_counting.sqlite_order) == expected


@pytest.mark.parametrize("keys", [["wierden"], ["2024"], ["-3"], ["hh-pa-2024", "WONEN_1"], ["a b"], ["a.b"],
                                  ["ü/é"], ["x,y", "~"], [""], ["None"], ["a+b%20"]])
def test_row_path_is_datasettes(keys: list[str]) -> None:
    pks = [f"k{i}" for i in range(len(keys))]
    assert row_path(keys) == path_from_row_pks(dict(zip(pks, keys, strict=True)), pks, False)
