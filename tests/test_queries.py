"""Every saved query answers its question correctly on the shipped data."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from datasette.app import Datasette

from loaders.schema import PROJECT_ROOT, served_package
from tests.conftest import SAVED_QUERIES
from tests.conftest import ask as run

DB = "prestatieafspraken"
QUERIES = SAVED_QUERIES


def csv_rows(table: str) -> list[dict[str, str]]:
    with (PROJECT_ROOT / "csv" / f"{table}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_query_is_documented_in_both_languages() -> None:
    for name, query in QUERIES.items():
        assert " / " in query["title"], name
        assert " — " in query["description"], name


async def test_every_query_is_linked_from_the_database_page(ds: Datasette) -> None:
    page = (await ds.client.get(f"/{DB}")).text
    for name in QUERIES:
        assert f'href="/{DB}/{name}"' in page, name


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_query_runs_and_returns_rows(ds: Datasette, name: str) -> None:
    params = {"q": "huurders"} if name == "search" else {}
    rows = await run(ds, name, **params)
    assert rows, name
    page = await ds.client.get(f"/{DB}/{name}")
    assert page.status_code == 200


async def test_agreements_by_document_follow_the_top3(ds: Datasette) -> None:
    rows = await run(ds, "agreements_by_document", document="hh-pa-2020-2023")
    expected = [r for r in csv_rows("agreements") if r["document_id"] == "hh-pa-2020-2023"]
    assert sorted(r["agreement_id"] for r in rows) == sorted(r["id"] for r in expected)
    ranks = [r["theme_rank"] for r in rows if r["theme_rank"] is not None]
    assert ranks == sorted(ranks)
    by_year = await run(ds, "agreements_by_document", document="2024")
    assert {r["agreement_id"] for r in by_year} >= {r["id"] for r in csv_rows("agreements")
                                                     if r["document_id"] == "hh-pa-2024"}
    assert all(r["source_url"].startswith("https://") for r in by_year)


async def test_partner_commitments_include_shared_agreements(ds: Datasette) -> None:
    links = csv_rows("agreement_partners")
    partner = Counter(r["partner_id"] for r in links).most_common(1)[0][0]
    rows = await run(ds, "partner_commitments", partner=partner)
    assert sorted(r["agreement_id"] for r in rows) == sorted(r["agreement_id"] for r in links
                                                              if r["partner_id"] == partner)
    shared = {r["agreement_id"] for r in links if r["partner_id"] != partner}
    for row in rows:
        assert bool(row["shared_with"]) == (row["agreement_id"] in shared), row


async def test_agreement_counts_per_theme_and_kind_add_up(ds: Datasette) -> None:
    rows = await run(ds, "agreements_per_theme_kind")
    assert sum(r["agreements"] for r in rows) == len(csv_rows("agreements"))
    assert {r["kind"] for r in rows} <= {"actiepunt", "procesafspraak"}


async def test_figures_filter_by_indicator(ds: Datasette) -> None:
    rows = await run(ds, "figures", indicator="sloop")
    expected = [r for r in csv_rows("specifications") if "sloop" in r["indicator"].lower()
                or "sloop" in r["indicator_en"].lower()]
    assert len(rows) == len(expected)
    assert {547} <= {r["value"] for r in rows}
    assert all(r["source_url"] and r["unit"] for r in rows)


async def test_discrepancies_show_each_value_with_its_source(ds: Datasette) -> None:
    rows = await run(ds, "figure_discrepancies")
    villages = [r for r in rows if r["indicator"] == "Aantal dorpen"]
    assert {r["value"] for r in villages} == {50, 52}
    assert len({r["source_url"] for r in villages}) == len(villages)
    groups: dict[tuple, set] = {}
    for r in rows:
        key = (r["indicator"], r["area"], r["period_start"], r["period_end"], r["reference_date"], r["unit"])
        groups.setdefault(key, set()).add(r["value"])
    assert all(len(values) > 1 for values in groups.values())


@pytest.mark.parametrize("q", ["geinformeerd", "geïnformeerd", "GEINFORMEERD"])
async def test_search_folds_diacritics_and_case(ds: Datasette, q: str) -> None:
    rows = await run(ds, "search", q=q)
    assert any(r["link"] == f"/{DB}/agreements/hh-pa-2024-nij-begun-woonactieplan" for r in rows), rows


async def test_search_finds_partners_and_documents(ds: Datasette) -> None:
    """The search reads the site search index: a hit's kind is the title of its table."""
    titles = {r.name: r.title for r in served_package().resources}
    kinds = {r["kind"] for r in await run(ds, "search", q="Marenland")}
    assert {titles["partners"], titles["documents"]} <= kinds


@pytest.mark.parametrize("q", ['"', "'", '"unclosed', "NEAR(", "a OR", "*", "-", "AND", ")", "^", "", "   ",
                               "x" * 5000, "huur* OR \"", "%", "\\"])
async def test_search_survives_hostile_input(ds: Datasette, q: str) -> None:
    response = await ds.client.get(f"/{DB}/search.json", params={"q": q, "_shape": "array"})
    assert response.status_code == 200, (q, response.text[:300])
    assert isinstance(response.json(), list)


async def test_search_refuses_a_nul_character_with_a_clear_message(ds: Datasette) -> None:
    """No address may carry NUL (plugins/security.py): SQLite cannot take it, so it is refused up front."""
    response = await ds.client.get(f"/{DB}/search.json", params={"q": "huur\x00", "_shape": "array"})
    assert response.status_code == 400
    assert "NUL" in response.text


async def test_search_links_are_links(ds: Datasette) -> None:
    page = await ds.client.get(f"/{DB}/search", params={"q": "Goud Wonen"})
    assert f'<a href="/{DB}/partners/goud-wonen">' in page.text


async def test_partner_timeline_shows_mergers(ds: Datasette) -> None:
    rows = {r["partner_id"]: r for r in await run(ds, "partner_timeline")}
    assert rows["suw"]["successor"] == "Goud Wonen"
    assert "Stichting Uithuizer Woningbouw" in rows["goud-wonen"]["predecessors"]
    assert rows["marenland"]["end_reason"] == "opheffing" and rows["marenland"]["successor"] is None
    assert rows["hou"]["represents_tenants_of"] == "Stichting Uithuizer Woningbouw"


async def test_partner_documents_roles(ds: Datasette, db_path: Path) -> None:
    rows = await run(ds, "partner_documents")
    assert len(rows) == len(csv_rows("document_partners"))
    assert {r["role"] for r in rows} <= {"ondertekenaar", "deelnemer", "opsteller", "publicatie"}


async def test_coverage_gaps_list_only_missing_parts(ds: Datasette) -> None:
    rows = await run(ds, "coverage_gaps")
    expected = [r for r in csv_rows("coverage") if r["status"] != "opgenomen"]
    assert len(rows) == len(expected)
    assert any(r["part_en"] == "Annex with specifications" and r["year"] == 2024 for r in rows)


async def test_themes_over_the_years(ds: Datasette) -> None:
    rows = await run(ds, "themes_over_years")
    assert len(rows) == len(csv_rows("themes"))
    ranked_2024 = [(r["priority_rank"], r["theme_key"]) for r in rows if r["year"] == 2024
                   and r["priority_rank"] is not None and "Prestatieafspraken" in r["document"]]
    assert ranked_2024 == [(1, "betaalbaarheid"), (2, "duurzaamheid"), (3, "beschikbaarheid")]


async def test_chart_queries(ds: Datasette, db_path: Path) -> None:
    top3 = await run(ds, "top3_2024")
    assert [r["theme"] for r in top3[:3]] == ["Betaalbaarheid", "Duurzaamheid", "Beschikbaarheid"]
    assert len(top3) == 6
    plan = {r["kind_nl"]: r["homes"] for r in await run(ds, "demolition_vs_newbuild")}
    assert plan == {"Sloop": 547, "Nieuwbouw": 620}
    conn = sqlite3.connect(db_path)
    corporations = await run(ds, "corporations_over_time")
    assert {r["corporation"] for r in corporations} <= {
        r[0] for r in conn.execute("select name from partners where kind = 'woningcorporatie'")}
    figures = {r["indicator"]: r for r in await run(ds, "ambitiekader_figures")}
    assert figures["Aantal dorpen"]["value"] == 52
    assert figures["Aantal sociale huurwoningen"]["label"].startswith("minstens 5600")


# The plain form of the questions that read partners in name order (so that a page of national data stops after its
# first rows): every partner's rows joined and sorted. The saved question must answer the same rows in this order.
PLAIN = {
    "partner_commitments": (
        "select ap.agreement_id, p.name from agreement_partners ap join partners p on p.id = ap.partner_id "
        "join agreements_overview a on a.agreement_id = ap.agreement_id where ap.partner_id in ({ids}) "
        "order by p.name, a.year desc, a.agreement_id", ("agreement_id", "partner")),
    "partner_documents": (
        "select partner, document from document_partners_overview where partner_id in ({ids}) "
        "order by partner_kind, partner, year, document_id", ("partner", "document")),
    "corporation_per_municipality": (
        "select * from (select partner as corporation, municipality, year, document_id, 'document' as level, "
        "null as agreement_id from document_partners_overview where partner_id in ({corporations}) union all "
        "select p.name, a.municipality, a.year, a.document_id, 'afspraak / agreement', a.agreement_id "
        "from agreement_partners ap join partners p on p.id = ap.partner_id "
        "join agreements_overview a on a.agreement_id = ap.agreement_id where ap.partner_id in ({corporations})) "
        "where :municipality = '' or lower(municipality) = lower(:municipality) "
        "order by corporation, municipality, year, document_id, level, agreement_id",
        ("corporation", "municipality", "year", "document_id", "level", "agreement_id")),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
async def test_partner_questions_answer_what_the_plain_form_answers(ds: Datasette, db_path: Path,
                                                                     name: str) -> None:
    sql, columns = PLAIN[name]
    by_municipality = "municipality" in QUERIES[name].get("params", [])
    ids = ("select id from partners where :partner = '' or id = :partner or name like '%' || :partner || '%' "
           "or short_name like '%' || :partner || '%'")
    corporations = f"select id from partners where kind = 'woningcorporatie' and id in ({ids})"
    plain = sql.format(ids=ids, corporations=corporations)
    with sqlite3.connect(db_path) as conn:
        asked = [(r[0], "") for r in conn.execute("select id from partners")] + [("", ""), ("a", ""), ("geen", "")]
        if by_municipality:
            asked += [("", r[0]) for r in conn.execute("select distinct municipality from documents")
                      if r[0] is not None]
        for partner, municipality in asked:
            expected = [tuple(r) for r in conn.execute(plain, {"partner": partner, "municipality": municipality})]
            params = {"partner": partner} | ({"municipality": municipality} if by_municipality else {})
            rows = await run(ds, name, **params)
            assert [tuple(r[c] for c in columns) for r in rows] == expected, (partner, municipality)
