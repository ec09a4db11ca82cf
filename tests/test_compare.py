"""Questions that compare municipalities, asked the way a journalist asks them, and the second municipality's data.

Expected rows are computed from the tables with plain SQL, independently of the saved queries, so a query that
drops or invents a row fails here.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from loaders.schema import PROJECT_ROOT
from loaders.yaml_files import load_yaml
from tests.conftest import SAVED_QUERIES, ask

DB = "prestatieafspraken"
QUERIES = SAVED_QUERIES
CHARTS = {c["slug"]: c for c in load_yaml((PROJECT_ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]}
COMPARE_CHARTS = ["top3-2024-per-gemeente", "sloop-en-nieuwbouw-per-gemeente", "ontbrekend-per-gemeente"]
SECOND = "Midden-Groningen"
FIRST = "Het Hogeland"
AGREEMENT_KINDS = ("prestatieafspraken", "raamafspraken", "addendum", "verlenging")


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(db_path)
    c.row_factory = sqlite3.Row
    return c


def rows(conn: sqlite3.Connection, sql: str, *args: Any) -> list[sqlite3.Row]:
    return conn.execute(sql, args).fetchall()


# --- the second municipality is in the data, every row sourced ---------------------------------------------------


def test_the_second_municipality_has_2024_agreements_with_named_signatories(conn: sqlite3.Connection) -> None:
    docs = rows(conn, "select id from documents where municipality = ? and kind = 'prestatieafspraken' "
                      "and period_start = 2024", SECOND)
    assert len(docs) == 1
    signatories = rows(conn, "select p.kind from document_partners dp join partners p on p.id = dp.partner_id "
                             "where dp.document_id = ? and dp.role = 'ondertekenaar'", docs[0]["id"])
    kinds = [r["kind"] for r in signatories]
    assert kinds.count("gemeente") == 1 and "woningcorporatie" in kinds and "huurdersorganisatie" in kinds


def test_every_row_of_the_second_municipality_cites_a_source_with_an_address(conn: sqlite3.Connection) -> None:
    per_table = {
        "documents": "select t.source_id from documents t where t.municipality = :m",
        "themes": "select t.source_id from themes t join documents d on d.id = t.document_id where d.municipality = :m",
        "agreements": "select t.source_id from agreements t join documents d on d.id = t.document_id "
                      "where d.municipality = :m",
        "agreement_partners": "select t.source_id from agreement_partners t join agreements a on a.id = t.agreement_id "
                              "join documents d on d.id = a.document_id where d.municipality = :m",
        "document_partners": "select t.source_id from document_partners t join documents d on d.id = t.document_id "
                             "where d.municipality = :m",
        "coverage": "select t.source_id from coverage t join documents d on d.id = t.document_id "
                    "where d.municipality = :m",
        "specifications": "select t.source_id from specifications t join documents d on d.id = t.document_id "
                          "where d.municipality = :m",
    }
    for table, sql in per_table.items():
        found = conn.execute(sql, {"m": SECOND}).fetchall()
        assert found, f"{table}: no rows for {SECOND}"
        for (source_id,) in found:
            url = conn.execute("select url from sources where id = ?", (source_id,)).fetchone()
            assert url and url[0].startswith("https://"), (table, source_id)


def test_no_ranking_is_invented_where_the_source_gives_none(conn: sqlite3.Connection) -> None:
    ranked = rows(conn, "select t.id from themes t join documents d on d.id = t.document_id "
                        "where d.municipality = ? and t.priority_rank is not null", SECOND)
    assert ranked == []
    for r in rows(conn, "select t.notes from themes t join documents d on d.id = t.document_id "
                        "where d.municipality = ?", SECOND):
        assert "rangorde" in r["notes"], "say that the source gives no ranking"


def test_figures_that_disagree_within_one_source_are_both_kept(conn: sqlite3.Connection) -> None:
    # Lefier's report gives a total and a breakdown that do not add up to it; both stay, neither is corrected.
    total = rows(conn, "select value, notes from specifications where area like 'Schildwolde en Slochteren%' "
                       "and indicator like '%slopen%'")
    parts = rows(conn, "select value from specifications where area in ('Schildwolde', 'Slochteren') "
                       "and indicator like '%slopen%' and source_id = ?",
                 conn.execute("select source_id from specifications where area like 'Schildwolde en Slochteren%' "
                              "and indicator like '%slopen%'").fetchone()[0])
    assert len(total) == 1 and parts
    assert sum(r["value"] for r in parts) != total[0]["value"]
    assert "AFLEIDING:" in total[0]["notes"] and "kiezen niet" in total[0]["notes"]


# --- the questions that compare -----------------------------------------------------------------------------------


async def test_the_2024_top3_of_each_municipality_side_by_side(ds: Datasette, conn: sqlite3.Connection) -> None:
    answer = await ask(ds, "top3_2024_per_municipality")
    expected = rows(conn, "select d.municipality, t.theme_key, t.priority_rank from themes t "
                          "join documents d on d.id = t.document_id where d.kind = 'prestatieafspraken' "
                          "and d.period_start <= 2024 and coalesce(d.period_end, d.period_start) >= 2024")
    assert sorted((r["municipality"], r["theme_key"], r["rank"]) for r in answer) == sorted(
        (r["municipality"], r["theme_key"], r["priority_rank"]) for r in expected)
    by_place: dict[str, list[dict[str, Any]]] = {}
    for r in answer:
        by_place.setdefault(r["municipality"], []).append(r)
    assert {FIRST, SECOND} <= set(by_place)
    # Het Hogeland's top-3 comes first, in order; Midden-Groningen's subjects say the source ranks none.
    assert [r["rank"] for r in by_place[FIRST][:3]] == [1, 2, 3]
    assert all(r["ranking_in_source"].startswith("top-3") for r in by_place[FIRST])
    assert all(r["rank"] is None and r["ranking_in_source"].startswith("geen rangorde") for r in by_place[SECOND])
    assert all(r["source_url"] and r["source_publisher"] for r in answer)
    only = await ask(ds, "top3_2024_per_municipality", municipality=SECOND.lower())
    assert only and {r["municipality"] for r in only} == {SECOND}


async def test_what_one_corporation_committed_to_in_each_municipality(ds: Datasette, conn: sqlite3.Connection) -> None:
    # A corporation that works in both municipalities: the answer shows both, each line with its source.
    both = rows(conn, "select p.id from partners p join document_partners dp on dp.partner_id = p.id "
                      "join documents d on d.id = dp.document_id where p.kind = 'woningcorporatie' "
                      "and d.municipality in (?, ?) group by p.id having count(distinct d.municipality) = 2",
                FIRST, SECOND)
    assert both, "no corporation appears in both municipalities"
    for (partner,) in both:
        answer = await ask(ds, "corporation_per_municipality", partner=partner)
        expected_documents = rows(conn, "select d.municipality, d.id, dp.role from document_partners dp "
                                        "join documents d on d.id = dp.document_id where dp.partner_id = ?", partner)
        expected_agreements = rows(conn, "select d.municipality, a.id, ap.role from agreement_partners ap "
                                         "join agreements a on a.id = ap.agreement_id "
                                         "join documents d on d.id = a.document_id where ap.partner_id = ?", partner)
        assert sorted((r["municipality"], r["document_id"], r["role"]) for r in answer if r["level"] == "document") \
            == sorted(tuple(r) for r in expected_documents)
        assert sorted((r["municipality"], r["agreement_id"], r["role"]) for r in answer if r["agreement_id"]) \
            == sorted(tuple(r) for r in expected_agreements)
        assert {FIRST, SECOND} <= {r["municipality"] for r in answer}
        assert all(r["source_url"] for r in answer)
    # Lefier's commitment in Midden-Groningen: the demolition in Slochteren and Schildwolde.
    lefier = await ask(ds, "corporation_per_municipality", partner="lefier", municipality=SECOND)
    demolition = [r for r in lefier if r["agreement"]]
    assert demolition and all("Slochteren" in r["agreement"] and "Schildwolde" in r["agreement"] for r in demolition)
    # A corporation no source names in a municipality gets no line there.
    assert await ask(ds, "corporation_per_municipality", partner="wierden-en-borgen", municipality=SECOND) == []


async def test_planned_demolition_and_new_build_per_municipality(ds: Datasette, conn: sqlite3.Connection) -> None:
    answer = await ask(ds, "demolition_newbuild_per_municipality")
    municipalities = {r["municipality"] for r in answer}
    assert {FIRST, SECOND} <= municipalities
    agreed = rows(conn, "select d.municipality, sp.id, sp.value from specifications sp "
                        "join documents d on d.id = sp.document_id where sp.unit = 'woningen' "
                        "and d.kind in (?, ?, ?, ?) and d.period_start >= 2022 "
                        "and (lower(sp.indicator) like '%sloop%' or lower(sp.indicator) like '%nieuw%')",
                  *AGREEMENT_KINDS)
    shown = {(r["municipality"], r["specification_id"], r["homes"]) for r in answer if r["specification_id"]}
    assert shown == {tuple(r) for r in agreed}
    for r in answer:
        if r["homes"] is None:
            # unknown is shown as unknown, never as zero, and the gap is recorded for that municipality
            assert "geen afgesproken aantal" in r["note"]
            gaps = rows(conn, "select c.id from coverage c join documents d on d.id = c.document_id "
                              "where d.municipality = ? and c.status = 'ontbreekt' "
                              "and (c.part_nl like '%gesloopt%' or c.part_nl like '%sloop%')", r["municipality"])
            assert gaps, f"{r['municipality']}: missing {r['kind_nl']} number without a coverage row"
        else:
            assert r["homes"] > 0 and r["source_url"] and r["period"]
    kinds = {(r["municipality"], r["kind_nl"]) for r in answer}
    assert {(m, k) for m in municipalities for k in ("Sloop", "Nieuwbouw")} == kinds


async def test_which_agreement_parts_are_missing_where(ds: Datasette, conn: sqlite3.Connection) -> None:
    answer = await ask(ds, "missing_per_municipality")
    expected = rows(conn, "select d.municipality, c.id from coverage c join documents d on d.id = c.document_id "
                          "where c.status <> 'opgenomen'")
    assert sorted((r["municipality"], r["coverage_id"]) for r in answer) == sorted(tuple(r) for r in expected)
    assert {FIRST, SECOND} <= {r["municipality"] for r in answer}
    second = await ask(ds, "missing_per_municipality", municipality=SECOND)
    assert second and all(r["municipality"] == SECOND and r["source_url"] for r in second)
    assert any(r["status"] == "ontbreekt" and "afspraken" in r["part_nl"].lower() for r in second)


# --- municipality as a filter, on the home page, in charts ---------------------------------------------------------


@pytest.mark.parametrize("view", ["agreements_overview", "specifications_overview", "document_partners_overview",
                                  "coverage_overview"])
async def test_every_overview_facets_on_municipality(ds: Datasette, view: str) -> None:
    page = html.unescape((await ds.client.get(f"/{DB}/{view}?_size=0")).text)  # the page's own facets
    facet = page[page.index('id="facet-municipality"'):]
    facet = facet[:facet.index("</ul>")]
    assert FIRST in facet and SECOND in facet, view
    filtered = (await ds.client.get(f"/{DB}/{view}.json?_shape=array&municipality={SECOND}")).json()
    assert filtered and {r["municipality"] for r in filtered} == {SECOND}


async def test_home_page_shows_coverage_per_municipality(ds: Datasette, conn: sqlite3.Connection) -> None:
    page = html.unescape((await ds.client.get("/")).text)
    for (municipality,) in rows(conn, "select distinct municipality from documents where kind in (?, ?, ?, ?)",
                                *AGREEMENT_KINDS):
        assert f"/{DB}/missing_per_municipality?municipality={municipality.replace(' ', '%20')}" in page, municipality
    missing = conn.execute("select count(*) from coverage c join documents d on d.id = c.document_id "
                           "where d.municipality = ? and c.status = 'ontbreekt'", (SECOND,)).fetchone()[0]
    row = page[page.index(f">{SECOND}</a>"):][:400]
    assert f"<td>{missing}</td>" in row


@pytest.mark.parametrize("slug", COMPARE_CHARTS)
async def test_comparison_charts_take_the_municipality_as_a_parameter(ds: Datasette, slug: str) -> None:
    chart = CHARTS[slug]
    assert "municipality" in QUERIES[chart["query"]]["params"]
    spec_all = (await ds.client.get(f"/-/charts/{slug}.vl.json")).json()
    assert {FIRST, SECOND} <= {r["municipality"] for r in spec_all["data"]["values"]}
    images = {}
    for municipality in (FIRST, SECOND):
        spec = (await ds.client.get(f"/-/charts/{slug}.vl.json", params={"municipality": municipality})).json()
        assert {r["municipality"] for r in spec["data"]["values"]} == {municipality}
        assert spec["title"]["text"].endswith(municipality)
        svg = await ds.client.get(f"/-/charts/{slug}.svg", params={"municipality": municipality})
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        again = await ds.client.get(f"/-/charts/{slug}.svg", params={"municipality": municipality})
        assert again.headers["x-chart-cache"] == "hit" and again.content == svg.content
        assert municipality in svg.text
        images[municipality] = (svg.content, svg.headers["etag"])
    assert images[FIRST][0] != images[SECOND][0] and images[FIRST][1] != images[SECOND][1]
    page = (await ds.client.get(f"/-/charts/{slug}", params={"municipality": SECOND})).text
    assert f'src="/-/charts/{slug}.svg?municipality={SECOND}"' in page


async def test_a_chart_for_a_municipality_without_data_is_a_clean_404(ds: Datasette) -> None:
    chart_plugin = pm.get_plugin("charts.py")  # the module Datasette loaded from plugins/charts.py
    before = len(chart_plugin._images)
    for fmt in ("svg", "png", "vl.json"):
        response = await ds.client.get(f"/-/charts/top3-2024-per-gemeente.{fmt}", params={"municipality": "Nergens"})
        assert response.status_code == 404
    assert (await ds.client.get("/-/charts/top3-2024-per-gemeente?municipality=Nergens")).status_code == 404
    assert len(chart_plugin._images) == before, "a refused value must not fill the image cache"


# --- the second municipality builds with the code of main, unchanged -------------------------------------------------


def _base_of_main() -> str | None:
    """The commit of main this tree grew from (main itself once merged); None without git or a main branch."""
    for ref in ("main", "origin/main"):
        try:
            return subprocess.run(["git", "-C", str(PROJECT_ROOT), "merge-base", "HEAD", ref], check=True,
                                  capture_output=True, text=True).stdout.strip() or None
        except (OSError, subprocess.CalledProcessError):
            continue
    return None


def _model_lines(text: str) -> list[str]:
    """datapackage.yaml's lines without comments and without field titles (indented under `- name:` of a field)."""
    return [line for line in text.splitlines()
            if not line.lstrip().startswith("#") and not re.match(r"^ {10}title: ", line)]


def test_the_second_municipality_builds_with_the_code_of_main_unchanged(tmp_path: Path) -> None:
    base = _base_of_main()
    if base is None:
        pytest.skip("needs git and a main branch to compare with")
    # Everything the build reads, as far as main had it then (metadata.yml, queries/, charts.yml and settings.json
    # became build inputs later; the saved questions read max_returned_rows from settings.json).
    at_base = set(subprocess.run(["git", "-C", str(PROJECT_ROOT), "ls-tree", "--name-only", base], check=True,
                                 capture_output=True, text=True).stdout.split())
    inputs = [name for name in ("loaders", "datapackage.yaml", "publication.yaml", "LICENSE-DATA.md", "README.md",
                                "CITATION.cff", "metadata.yml", "queries", "charts.yml", "settings.json")
              if name in at_base]
    archive = subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", base, "--", *inputs],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    # Only csv/ (and at most one enum value in datapackage.yaml) may differ from main for a new municipality.
    # Comments and the fields' Dutch headings (`title:`, which main's loader before labels ignored) are not the
    # data model: a branch that adds headings is compared on what is left.
    ours = _model_lines((PROJECT_ROOT / "datapackage.yaml").read_text(encoding="utf-8"))
    theirs = _model_lines((tmp_path / "datapackage.yaml").read_text(encoding="utf-8"))
    changed = [a for a, b in zip(ours, theirs, strict=False) if a != b] + ours[len(theirs):]
    assert len(ours) == len(theirs) and len(changed) <= 1 and all("enum" in line for line in changed), changed
    shutil.copytree(PROJECT_ROOT / "csv", tmp_path / "csv")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    check = subprocess.run([sys.executable, "-c", "import loaders, sys; sys.stdout.write(loaders.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(check.stdout).resolve().is_relative_to(tmp_path.resolve()), "must run main's loader, not ours"
    out = tmp_path / "build" / "db.sqlite"
    result = subprocess.run([sys.executable, "-m", "loaders", "--root", str(tmp_path), "build", "--output", str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with sqlite3.connect(out) as built:
        counts = {table: built.execute(sql, (SECOND,)).fetchone()[0] for table, sql in {
            "documents": "select count(*) from documents where municipality = ?",
            "agreements": "select count(*) from agreements a join documents d on d.id = a.document_id "
                          "where d.municipality = ?",
            "coverage": "select count(*) from coverage c join documents d on d.id = c.document_id "
                        "where d.municipality = ? and c.status = 'ontbreekt'",
        }.items()}
    assert all(counts.values()), counts
