"""The served site: every table answers in HTML, JSON and CSV, shows its descriptions, search works,
rows link to their source, and the footer names the data release."""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from loaders.schema import Package
from loaders.views import column_descriptions, view_definitions

DB = "prestatieafspraken"


def all_tables(package: Package) -> list[str]:
    return [r.name for r in package.resources] + list(view_definitions()) + ["build_info"]


async def test_home_and_database_pages(ds: Datasette) -> None:
    home = await ds.client.get("/")
    assert home.status_code == 200
    assert "Prestatieafspraken volkshuisvesting" in home.text
    db = await ds.client.get(f"/{DB}")
    assert db.status_code == 200
    assert "agreements_overview" in db.text


@pytest.mark.parametrize("fmt", ["", ".json", ".csv"])
async def test_every_table_answers_in_every_format(ds: Datasette, package: Package, fmt: str) -> None:
    for table in all_tables(package):
        response = await ds.client.get(f"/{DB}/{table}{fmt}")
        assert response.status_code == 200, (table, fmt, response.text[:300])
        if fmt == ".json":
            assert "rows" in response.json()
        if fmt == ".csv":
            assert response.text.splitlines()[0].split(",")[0]


async def test_table_rows_match_the_csv(ds: Datasette, package: Package, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    for resource in package.resources:
        expected = conn.execute(f'select count(*) from "{resource.name}"').fetchone()[0]
        with (package.root / resource.path).open(encoding="utf-8") as f:
            import csv

            assert expected == sum(1 for _ in csv.DictReader(f)), resource.name
        data = (await ds.client.get(f"/{DB}/{resource.name}.json?_shape=objects&_size=max")).json()
        assert data.get("filtered_table_rows_count", len(data["rows"])) == expected, resource.name


async def test_every_table_and_column_is_described_in_dutch_and_english(ds: Datasette, package: Package) -> None:
    for resource in package.resources:
        page = html.unescape((await ds.client.get(f"/{DB}/{resource.name}")).text)
        assert resource.description_nl in page and resource.description_en in page, resource.name
        for field in resource.fields:
            assert field.description_nl in page, f"{resource.name}.{field.name} (nl)"
            assert field.description_en in page, f"{resource.name}.{field.name} (en)"
    for view in view_definitions():
        page = html.unescape((await ds.client.get(f"/{DB}/{view}")).text)
        for column, (nl, en) in column_descriptions(package, view).items():
            assert nl in page and en in page, f"{view}.{column}"


async def test_metadata_carries_licence_and_source_on_every_table(ds: Datasette, package: Package) -> None:
    for table in all_tables(package):
        meta = ds.table_metadata(DB, table)
        for key in ("title", "description", "license", "license_url", "source", "source_url", "about_url"):
            assert meta.get(key), (table, key)


def words_with_diacritics(db_path: Path, table: str, column: str) -> list[str]:
    import re
    import unicodedata

    text = " ".join(r[0] or "" for r in sqlite3.connect(db_path).execute(f"select {column} from {table}"))
    words = sorted({w for w in re.findall(r"\w+", text) if unicodedata.normalize("NFD", w) != w})
    return words


def strip_marks(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@pytest.mark.parametrize(("table", "column"), [("partners", "summary_nl"), ("documents", "summary_nl"),
                                               ("agreements", "summary_nl")])
async def test_search_folds_diacritics(ds: Datasette, db_path: Path, table: str, column: str) -> None:
    words = words_with_diacritics(db_path, table, column)
    assert words, f"no word with a diacritic in {table}.{column} to test with"
    for word in words[:5]:
        with_mark = (await ds.client.get(f"/{DB}/{table}.json", params={"_search": word, "_shape": "objects"})).json()
        without = (await ds.client.get(f"/{DB}/{table}.json",
                                       params={"_search": strip_marks(word), "_shape": "objects"})).json()
        assert with_mark["rows"], f"searching {word} finds nothing"
        assert with_mark["rows"] == without["rows"], word


@pytest.mark.parametrize("table", ["agreements", "documents", "themes", "partners"])
async def test_search_box_on_text_tables(ds: Datasette, table: str) -> None:
    page = await ds.client.get(f"/{DB}/{table}")
    assert 'name="_search"' in page.text


async def test_row_page_links_its_source(ds: Datasette, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    agreement_id, source_id, url = conn.execute(
        "select a.id, s.id, s.url from agreements a join sources s on s.id = a.source_id "
        "where a.document_id = 'hh-pa-2024' limit 1").fetchone()
    page = await ds.client.get(f"/{DB}/agreements/{agreement_id}")
    assert page.status_code == 200
    assert f'href="/{DB}/sources/{source_id}"' in page.text
    assert f'href="{html.escape(url)}"' in page.text
    source_page = await ds.client.get(f"/{DB}/sources/{source_id}")
    assert html.escape(url) in source_page.text or url in source_page.text


async def test_labels_read_as_names(ds: Datasette, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    title = conn.execute("select title from documents where id = 'hh-pa-2024'").fetchone()[0]
    page = await ds.client.get(f"/{DB}/agreements?document_id=hh-pa-2024")
    assert html.escape(title) in page.text


async def test_footer_names_the_data_release(ds: Datasette, db_path: Path) -> None:
    info = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())
    for path in ("/", f"/{DB}", f"/{DB}/agreements"):
        page = await ds.client.get(path)
        assert info["data_version"] in page.text, path
        assert info["git_commit"] in page.text, path


async def test_datamodel_page_lists_every_column(ds: Datasette, package: Package) -> None:
    page = html.unescape((await ds.client.get("/-/datamodel")).text)
    for resource in package.resources:
        for field in resource.fields:
            assert field.description_en in page


async def test_site_is_read_only(ds: Datasette) -> None:
    for sql in ("insert into sources (id) values ('S999')", "drop table sources", "update sources set url = ''"):
        response = await ds.client.get(f"/{DB}.json", params={"sql": sql})
        assert response.status_code in (400, 403), sql
    assert not ds.get_database(DB).is_mutable


def test_every_row_in_every_table_cites_a_source(db_path: Path, package: Package) -> None:
    conn = sqlite3.connect(db_path)
    for resource in package.resources:
        if resource.name == "sources":
            continue
        missing = conn.execute(
            f'select count(*) from "{resource.name}" t left join sources s on s.id = t.source_id '
            "where s.id is null or s.url is null or s.url = ''").fetchone()[0]
        assert missing == 0, resource.name
        assert conn.execute(f'select count(*) from "{resource.name}"').fetchone()[0] > 0, f"{resource.name} is empty"
