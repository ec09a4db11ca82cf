"""Projects, places and progress against the agreements: the views and saved queries say exactly what the CSVs say."""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette

from loaders.schema import PROJECT_ROOT
from tests.conftest import SAVED_QUERIES
from tests.conftest import ask as run

DB = "prestatieafspraken"
QUERIES = SAVED_QUERIES
KINDS = ("sloop", "nieuwbouw", "renovatie", "versterking", "verduurzaming")
PIVOT = {"sloop": "demolished", "nieuwbouw": "new_build", "renovatie": "renovated", "versterking": "strengthened",
         "verduurzaming": "sustainability"}


def csv_rows(table: str) -> list[dict[str, str]]:
    with (PROJECT_ROOT / "csv" / f"{table}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


PROJECTS = csv_rows("projects")
PLACES = {r["id"]: r for r in csv_rows("places")}
SOURCES = {r["id"]: r for r in csv_rows("sources")}
PROJECT_PLACES = csv_rows("project_places")


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(db_path)
    c.row_factory = sqlite3.Row
    return c


def expected_progress() -> dict[str, dict[str, int]]:
    """The progress view's sums, computed independently from csv/projects.csv."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    keys: dict[str, set[str]] = defaultdict(set)
    numbered: dict[str, set[str]] = defaultdict(set)
    for r in PROJECTS:
        if r["part_of_id"]:
            continue
        group = "opgeleverd" if r["status"] == "opgeleverd" else "onbekend" if r["status"] == "onbekend" else "gepland"
        keys[r["kind"]].add(r["project_key"])
        if r["homes"] != "":
            groups[(r["kind"], r["project_key"], group)].append(int(r["homes"]))
            numbered[r["kind"]].add(r["project_key"])
    result = {}
    for kind in {r["kind"] for r in PROJECTS}:
        def total(group: str, pick: Any, kind: str = kind) -> int:
            return sum(pick(v) for (k, _key, g), v in groups.items() if k == kind and g == group)
        result[kind] = {
            "projects": len(keys[kind]),
            "projects_without_number": len(keys[kind] - numbered[kind]),
            "planned_low": total("gepland", min), "planned_high": total("gepland", max),
            "delivered_low": total("opgeleverd", min), "delivered_high": total("opgeleverd", max),
            "status_unknown_high": total("onbekend", max),
        }
    return result


def test_every_project_and_place_row_cites_a_source_with_a_url() -> None:
    for row in PROJECTS + list(PLACES.values()) + PROJECT_PLACES:
        assert row["source_id"] in SOURCES, row
        assert SOURCES[row["source_id"]]["url"].startswith("http"), row
    for place in PLACES.values():
        if place["latitude"] or place["longitude"]:
            assert place["latitude"] and place["longitude"], place["id"]
            assert place["coordinates_source_id"] in SOURCES, place["id"]
        else:
            assert not place["coordinates_source_id"], place["id"]
            assert "coördinaten" in place["notes"].lower(), f"{place['id']}: say why coordinates are missing"


def test_unknown_numbers_are_empty_not_zero() -> None:
    assert all(r["homes"] != "0" for r in PROJECTS)
    for r in PROJECTS:
        assert bool(r["homes"]) == bool(r["qualifier"]), r["id"]


def test_inferences_are_marked_in_notes_only() -> None:
    for r in PROJECTS:
        for column in ("summary_nl", "summary_en", "name"):
            assert "AFLEIDING" not in r[column], r["id"]
        assert r["summary_nl"] != r["summary_en"], r["id"]


def test_places_outside_het_hogeland_are_labelled() -> None:
    outside = {p["name"]: p["municipality"] for p in PLACES.values() if p["in_het_hogeland"] == "nee"}
    assert outside["Garmerwolde"] == "Groningen" and outside["Ten Boer"] == "Groningen"
    assert outside["Middelstum"] == "Eemsdelta" and outside["'t Zandt"] == "Eemsdelta"
    assert {outside[v] for v in ("Ezinge", "Garnwerd", "Feerwerd")} == {"Westerkwartier"}
    for place in PLACES.values():
        assert (place["in_het_hogeland"] == "ja") == (place["municipality"] == "Het Hogeland"), place["id"]


async def test_query_places_outside_het_hogeland(ds: Datasette) -> None:
    rows = await run(ds, "places_outside_het_hogeland")
    assert sorted(r["place_id"] for r in rows) == sorted(k for k, p in PLACES.items() if p["in_het_hogeland"] == "nee")
    assert all(r["municipality"] != "Het Hogeland" and r["source_url"] for r in rows)


def test_projects_outside_het_hogeland_are_labelled(conn: sqlite3.Connection) -> None:
    outside = {k for k, p in PLACES.items() if p["in_het_hogeland"] == "nee"}
    linked = defaultdict(set)
    for link in PROJECT_PLACES:
        linked[link["project_id"]].add(link["place_id"])
    labels = dict(conn.execute("select project_row_id, outside_het_hogeland from projects_overview").fetchall())
    assert len(labels) == len(PROJECTS)
    for r in PROJECTS:
        places = {r["place_id"]} if r["place_id"] else linked[r["id"]]
        assert places, f"{r['id']} has no village"
        if places & outside:
            assert "buiten Het Hogeland" in labels[r["id"]], r["id"]
        else:
            assert labels[r["id"]] == "", r["id"]
    # Duurzaam Thuis covers Garmerwolde and Ten Boer (municipality of Groningen)
    assert "Garmerwolde" in labels["wb-duurzaam-thuis"] and "Ten Boer" in labels["wb-duurzaam-thuis"]


def test_disagreeing_sources_are_kept_side_by_side() -> None:
    bedum = [r for r in PROJECTS if r["project_key"] == "bedum-zpb" and r["kind"] == "sloop"]
    assert {(r["homes"], r["source_id"]) for r in bedum} == {("101", "S060"), ("100", "S061")}
    renovation = {r["homes"] for r in PROJECTS if r["project_key"] == "bedum-zpb" and r["kind"] == "renovatie"}
    assert renovation == {"99", "70"}


def test_progress_view_sums_match_the_project_rows(conn: sqlite3.Connection) -> None:
    expected = expected_progress()
    rows = {r["kind"]: dict(r) for r in conn.execute("select * from progress_against_agreements")}
    # Every kind of work in the data has its line (overig too), the kinds with an agreed number first.
    assert set(rows) == {r["kind"] for r in PROJECTS}
    promised = [row["promised_homes"] is not None for row in rows.values()]
    assert promised == sorted(promised, reverse=True)
    for kind in rows:
        for column, value in expected[kind].items():
            assert rows[kind][column] == value, (kind, column)
    assert rows["sloop"]["promised_homes"] == 547 and rows["nieuwbouw"]["promised_homes"] == 620
    assert rows["sloop"]["promised_period"] == "2022-2026"
    assert "omroephethogeland.nl/2021/12/16" in rows["sloop"]["promised_source_url"]
    for kind in set(rows) - {"sloop", "nieuwbouw"}:
        assert rows[kind]["promised_homes"] is None
    for row in rows.values():
        assert "onvoldoende gegevens om te beoordelen" in row["judgement_nl"]
        assert "insufficient data to judge" in row["judgement_en"]
    dated = [r["status_date"] for r in PROJECTS if r["status_date"]]
    assert max(r["latest_status_date"] for r in rows.values() if r["latest_status_date"]) == max(dated)


async def test_promised_vs_reported_query_equals_the_view(ds: Datasette, conn: sqlite3.Connection) -> None:
    rows = await run(ds, "promised_vs_reported")
    view = [dict(r) for r in conn.execute("select * from progress_against_agreements")]
    assert [(r["kind"], r["planned_low"], r["planned_high"], r["delivered_low"], r["delivered_high"])
            for r in rows] == [(r["kind"], r["planned_low"], r["planned_high"], r["delivered_low"],
                                r["delivered_high"]) for r in view]


def grouped(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, int | None]]:
    """Per (project_key, source_id): homes per kind, None where no row gives a number."""
    result: dict[tuple[str, str], dict[str, int | None]] = defaultdict(lambda: {k: None for k in KINDS})
    for r in rows:
        sums = result[(r["project_key"], r["source_id"])]
        if r["kind"] in KINDS and r["homes"] != "":
            sums[r["kind"]] = (sums[r["kind"]] or 0) + int(r["homes"])
    return result


@pytest.mark.parametrize("param", ["Uithuizen", "uithuizen", "UITHUIZEN"])
async def test_uithuizen_query_returns_exactly_the_uithuizen_rows(ds: Datasette, param: str) -> None:
    rows = await run(ds, "homes_in_place", place=param)
    expected = grouped([r for r in PROJECTS if r["place_id"] == "uithuizen"])
    assert {(r["project_key"], r["source_id"]) for r in rows} == set(expected)
    for row in rows:
        source = SOURCES[row["source_id"]]
        assert (row["source_publisher"], row["source_url"]) == (source["publisher"], source["url"])
        assert row["source_date"] == (source["published_on"] or None)
        for kind, column in PIVOT.items():
            assert row[column] == expected[(row["project_key"], row["source_id"])][kind], (row["project"], kind)
    # Uithuizermeeden is another village: a prefix match must not pull it in
    assert not any("Uithuizermeeden" in r["village"] for r in rows)
    corporations = {r["corporation"] for r in rows}
    assert {"Goud Wonen", "Stichting Uithuizer Woningbouw"} <= corporations


async def test_place_query_with_empty_param_lists_all_projects(ds: Datasette) -> None:
    rows = await run(ds, "homes_in_place")
    assert {(r["project_key"], r["source_id"]) for r in rows} == set(grouped(PROJECTS))
    multi = await run(ds, "homes_in_place", place="Ten Boer")
    assert [r["project_key"] for r in multi] == ["wb-duurzaam-thuis"]


async def test_homes_by_kind_per_village_add_up(ds: Datasette) -> None:
    rows = await run(ds, "homes_by_kind_per_village")
    expected = grouped(PROJECTS)
    assert len(rows) == len(expected)
    for kind, column in PIVOT.items():
        assert sum(r[column] or 0 for r in rows) == sum(int(p["homes"]) for p in PROJECTS
                                                         if p["kind"] == kind and p["homes"] != "")
    for row in rows:
        assert row["corporation"] and row["source_url"].startswith("http"), row
        if row["project_key"] == "wb-duurzaam-thuis":
            assert "buiten Het Hogeland" in row["outside_het_hogeland"]


def test_parts_point_to_a_row_of_the_same_village(conn: sqlite3.Connection) -> None:
    by_id = {r["id"]: r for r in PROJECTS}
    for r in PROJECTS:
        if r["part_of_id"]:
            parent = by_id[r["part_of_id"]]
            assert parent["place_id"] == r["place_id"] and not parent["part_of_id"], r["id"]
    counted = conn.execute("select count(*) from projects_overview where counted_in_totals = 1").fetchone()[0]
    assert counted == sum(1 for r in PROJECTS if not r["part_of_id"])


def test_tripartite_progress_reports_are_recorded_as_missing(conn: sqlite3.Connection) -> None:
    row = conn.execute("select status, part_en from coverage where id = 'cov-hh-pa-2024-voortgang'").fetchone()
    assert row["status"] == "ontbreekt" and "tripartite" in row["part_en"].lower()
