"""The build's count of the figures that name each place (loaders/place_mentions.py) is what the SQL join it
replaced gives: `instr(lower(area), lower(name)) > 0` for every place and distinct area."""

from __future__ import annotations

import sqlite3

import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.place_mentions import figures_per_place

# The join as aggregates.yaml had it before issue #16's loader work.
JOIN_SQL = """
with a as materialized (select lower(area) as area, count(*) as figures from specifications group by area),
     pl as materialized (select id, lower(name) as name from places)
select pl.id as place_id, coalesce(sum(a.figures), 0) as figures
from pl left join a on instr(a.area, pl.name) > 0
group by pl.id
"""

# Cases the substring lookup could get wrong: case (ASCII folds, non-ASCII does not, as in SQLite), a name inside
# another (Den, Den Andel), a name twice in one area, two places with one name, an empty name, a missing name or
# area, a name longer than every area, areas that differ only in case.
PLACES = [("p1", "Den Andel"), ("p2", "Den"), ("p3", "ÉTOILE"), ("p4", "étoile"), ("p5", "Ulrum"), ("p6", "ulrum"),
          ("p7", ""), ("p8", None), ("p9", "Een naam die langer is dan elk gebied"), ("p0", "a")]
AREAS = ["Den Andel", "den andel en Den Andel", "DEN", "Étoile", "étoile", "ÉTOILE", "Ulrum, Zoutkamp", "ULRUM",
         "Ulrum", None, "", "Warffum", "Den Andel"]


def database(places: list[tuple[str, str | None]], areas: list[str | None]) -> sqlite_utils.Database:
    conn = sqlite3.connect(":memory:")
    conn.execute("create table places (id TEXT PRIMARY KEY, name TEXT)")
    conn.execute("create table specifications (area TEXT)")
    conn.executemany("insert into places values (?, ?)", places)
    conn.executemany("insert into specifications values (?)", [(a,) for a in areas])
    return sqlite_utils.Database(conn)


def test_the_counts_equal_the_join_on_awkward_names() -> None:
    db = database(PLACES, AREAS)
    found = figures_per_place(db)
    assert found == db.execute(JOIN_SQL).fetchall()
    # "Den" is in every "Den Andel" too, and counted once in an area that names it twice.
    assert dict(found)["p2"] == 4 and dict(found)["p1"] == 3


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.one_of(st.none(), st.text("aAbBéÉ ", max_size=4)), max_size=6),
       areas=st.lists(st.one_of(st.none(), st.text("aAbBéÉ ,", max_size=9)), max_size=10))
def test_the_counts_equal_the_join_for_any_names(names: list[str | None], areas: list[str | None]) -> None:
    db = database([(f"p{i}", name) for i, name in enumerate(names)], areas)
    assert figures_per_place(db) == db.execute(JOIN_SQL).fetchall()
