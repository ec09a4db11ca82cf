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

QUERIES = SAVED_QUERIES


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


def rows_in(place: str) -> dict[str, dict[str, str]]:
    """The project rows (by id) that lie in a place: the place the row names, or one of a project's places."""
    ids = {r["project_id"] for r in PROJECT_PLACES if r["place_id"] == place}
    return {r["id"]: r for r in PROJECTS if r["place_id"] == place or r["id"] in ids}


def homes(row: dict[str, str]) -> int | None:
    return int(row["homes"]) if row["homes"] != "" else None


def assert_says_what_the_row_says(answer: dict[str, Any], row: dict[str, str]) -> None:
    """One answer line has the kind, number, status and source of its project row, with the source's details."""
    assert (answer["project_key"], answer["kind"], answer["homes"], answer["status"], answer["source_id"]) == (
        row["project_key"], row["kind"], homes(row), row["status"], row["source_id"]), row["id"]
    source = SOURCES[row["source_id"]]
    assert (answer["source_publisher"], answer["source_url"]) == (source["publisher"], source["url"])
    assert answer["source_date"] == (source["published_on"] or None)


@pytest.mark.parametrize("param", ["Uithuizen", "uithuizen", "UITHUIZEN"])
async def test_uithuizen_query_returns_exactly_the_uithuizen_rows(ds: Datasette, param: str) -> None:
    rows = await run(ds, "homes_in_place", place=param)
    expected = rows_in("uithuizen")
    assert sorted(r["project_row_id"] for r in rows) == sorted(expected)
    for row in rows:
        assert_says_what_the_row_says(row, expected[row["project_row_id"]])
    # Uithuizermeeden is another village: a prefix match must not pull it in
    assert not any("Uithuizermeeden" in r["village"] for r in rows)
    partners = {r["id"]: r["name"] for r in csv_rows("partners")}
    assert {r["corporation"] for r in rows} == {partners[p["partner_id"]] for p in expected.values()}


async def test_place_query_with_empty_param_lists_all_projects(ds: Datasette) -> None:
    rows = await run(ds, "homes_in_place")
    assert sorted(r["project_row_id"] for r in rows) == sorted(r["id"] for r in PROJECTS)
    assert [r["village"] for r in rows] == sorted(r["village"] for r in rows), "listed by village"
    # a project over several villages is found under each of them, by name or by key
    place_of_many = next(r["place_id"] for r in PROJECT_PLACES)
    for param in (place_of_many, PLACES[place_of_many]["name"]):
        multi = await run(ds, "homes_in_place", place=param)
        assert sorted(r["project_row_id"] for r in multi) == sorted(rows_in(place_of_many)), param


async def test_homes_by_kind_per_village_add_up(ds: Datasette) -> None:
    rows = await run(ds, "homes_by_kind_per_village")
    by_id = {r["id"]: r for r in PROJECTS}
    assert sorted(r["project_row_id"] for r in rows) == sorted(by_id)
    for kind in {r["kind"] for r in PROJECTS}:  # every kind in the data, `overig` too
        assert sum(r["homes"] or 0 for r in rows if r["kind"] == kind) == sum(
            homes(p) or 0 for p in PROJECTS if p["kind"] == kind), kind
    outside = {pid for pid, place in PLACES.items() if place["in_het_hogeland"] in ("0", "nee")}
    for row in rows:
        assert row["corporation"] and row["source_url"].startswith("http"), row
        assert_says_what_the_row_says(row, by_id[row["project_row_id"]])
        places = {pid for pid in PLACES if row["project_row_id"] in rows_in(pid)}
        assert ("buiten Het Hogeland" in row["outside_het_hogeland"]) == bool(places & outside), row


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
