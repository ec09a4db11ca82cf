"""The shipped data says what the sources say about 2024, and says plainly what is missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(db_path)


def test_2024_top3(conn: sqlite3.Connection) -> None:
    ranked = conn.execute(
        "select theme_key, priority_rank from themes where document_id = 'hh-pa-2024' "
        "and priority_rank is not null order by priority_rank").fetchall()
    assert ranked == [("betaalbaarheid", 1), ("duurzaamheid", 2), ("beschikbaarheid", 3)]
    keys = {r[0] for r in conn.execute("select theme_key from themes where document_id = 'hh-pa-2024'")}
    assert keys == {"betaalbaarheid", "duurzaamheid", "beschikbaarheid", "leefbaarheid", "wonen-en-zorg",
                    "veiligheid-en-kwaliteit"}


def test_2024_introduction_commitments(conn: sqlite3.Connection) -> None:
    rows = conn.execute(
        "select a.summary_nl || ' ' || a.summary_en, a.section, s.url from agreements a "
        "join sources s on s.id = a.source_id where a.document_id = 'hh-pa-2024'").fetchall()
    text = " ".join(r[0] for r in rows).lower()
    assert "april" in text and "september" in text
    assert "nij begun" in text
    assert "kr8" in text and "hpag" in text
    assert "top-3" in text or "top 3" in text
    assert all("hoheg.nl/2024/02/25" in r[2] for r in rows)


def test_2024_gaps_are_recorded(conn: sqlite3.Connection) -> None:
    statuses = dict(conn.execute(
        "select part_en, status from coverage where document_id = 'hh-pa-2024'").fetchall())
    assert "opgenomen" in statuses.values()
    missing = [part.lower() for part, status in statuses.items() if status == "ontbreekt"]
    assert any("annex" in p for p in missing), statuses
    assert any("action point" in p for p in missing), statuses


def test_2024_has_no_invented_annex_figures(conn: sqlite3.Connection) -> None:
    # The annex was not obtainable: no figure may claim to come from it.
    rows = conn.execute(
        "select id from specifications where lower(coalesce(notes, '')) like '%bijlage%' "
        "and document_id = 'hh-pa-2024'").fetchall()
    assert rows == []


def test_disagreeing_sources_are_both_kept(conn: sqlite3.Connection) -> None:
    groups = conn.execute(
        "select indicator, area, count(distinct value), count(distinct source_id) from specifications "
        "group by indicator, coalesce(period_start, ''), coalesce(period_end, ''), "
        "coalesce(reference_date, ''), area, unit having count(distinct value) > 1").fetchall()
    assert groups, "the dossier has several disagreements; none were recorded"
    for indicator, _area, _values, sources in groups:
        assert sources >= 2, f"{indicator}: different values from one source"


def test_2022_plan_figures(conn: sqlite3.Connection) -> None:
    values = {r[0] for r in conn.execute(
        "select value from specifications where document_id = 'hh-pa-2022' and unit = 'woningen'")}
    assert {547, 620} <= values


def test_mergers_point_to_their_successor(conn: sqlite3.Connection) -> None:
    rows = dict(conn.execute(
        "select p.name, s.name from partners p join partners s on s.id = p.successor_id").fetchall())
    merged_into_goud = [name for name, successor in rows.items() if successor == "Goud Wonen"]
    assert len(merged_into_goud) == 2, rows
    marenland = conn.execute(
        "select end_reason, ended_on, successor_id from partners where name like '%Marenland%'").fetchone()
    assert marenland == ("opheffing", "2023-11-01", None)


def test_summaries_are_bilingual(conn: sqlite3.Connection) -> None:
    for table, nl, en in (("agreements", "summary_nl", "summary_en"), ("documents", "summary_nl", "summary_en"),
                          ("partners", "summary_nl", "summary_en"), ("themes", "description_nl", "description_en")):
        same = conn.execute(f"select count(*) from {table} where {nl} = {en}").fetchone()[0]
        assert same == 0, table
