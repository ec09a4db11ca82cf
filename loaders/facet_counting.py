"""Counting pairs of a table's facet values in one pass over its rows (loaders/aggregates.py writes them).

A `GROUP BY` per pair of facet columns sorts every row of the table once per pair: at bench scale 1000 that was
some 40 sorts of up to 2 million rows (a single column's GROUP BY walks its index and needs no sort). Here each
table is read once, its rows in chunks, and every pair is counted in a Counter fed in C
(`map(itemgetter(...), chunk)`). Memory is bounded by the number of distinct pairs, never by the number of rows.

The counts are what SQLite's GROUP BY gives: values are grouped as SQLite compares them with its default BINARY
collation (no facet column declares another; Python's == agrees on integers, reals and text), and they come out
in SQLite's order (NULL, then numbers, then text by code point, then blobs), so the rows go into the table in
the order the GROUP BY queries wrote them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from sqlite_utils.db import Database, quote_identifier

CHUNK = 20_000


def sqlite_order(value: Any) -> tuple[int, Any]:
    """A sort key that orders values as SQLite does: NULL, numbers, text (BINARY: code points), blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, bytes(value))


def _chunks(db: Database, table: str, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    cursor = db.conn.execute(f"SELECT {', '.join(quote_identifier(c) for c in columns)} FROM "
                             f"{quote_identifier(table)}")
    while chunk := cursor.fetchmany(CHUNK):
        yield chunk


def count_pairs(db: Database, table: str, columns: list[str],
                pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Counter[tuple[Any, Any]]]:
    """Per (column, other column), the number of rows holding each pair of values, NULLs included."""
    index = {c: i for i, c in enumerate(columns)}
    counters: dict[tuple[str, str], Counter[tuple[Any, Any]]] = {pair: Counter() for pair in pairs}
    getters = [(counter, itemgetter(index[a], index[b])) for (a, b), counter in counters.items()]
    for chunk in _chunks(db, table, columns):
        for counter, get in getters:
            counter.update(map(get, chunk))
    return counters


def grouped_pairs(counter: Counter[tuple[Any, Any]]) -> list[tuple[Any, Any, int]]:
    """(value, other value, count) for every pair without a NULL, in SQLite's order of (value, other value)."""
    rows = [(a, b, n) for (a, b), n in counter.items() if a is not None and b is not None]
    return sorted(rows, key=lambda row: (sqlite_order(row[0]), sqlite_order(row[1])))
