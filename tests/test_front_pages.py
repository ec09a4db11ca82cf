"""The Dutch pages as served (Datasette's in-process client, no browser): errors that help, a bad query kept in
the editor, row pages titled by their label with a citation to copy, enum codes as words, search from any page."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from loaders.publication import Publication
from loaders.schema import PROJECT_ROOT, Package

DB = "prestatieafspraken"


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S)[1]).strip()  # type: ignore[index]


@pytest.mark.parametrize(("path", "status"), [(f"/{DB}/no-such-table", 404), (f"/{DB}/agreements?_sort=nope", 400),
                                              (f"/{DB}/agreements/no-such-row", 404)])
async def test_error_pages_explain_in_dutch_and_offer_search_and_home(ds: Datasette, path: str, status: int) -> None:
    response = await ds.client.get(path)
    assert response.status_code == status
    page = response.text
    assert '<html lang="nl">' in page
    assert page.count('action="/-/zoeken"') == 2  # the header's search box and the page's own
    assert 'href="/">Naar de startpagina</a>' in page
    assert f"({status})" in title_of(page) and "Error" not in title_of(page)


async def test_a_bad_query_stays_in_the_editor_with_the_error_beside_it(ds: Datasette) -> None:
    sql = "select nope from nowhere"
    response = await ds.client.get(f"/{DB}", params={"sql": sql})
    assert response.status_code == 400
    page = response.text
    editor = re.search(r'<textarea id="sql-editor" name="sql"[^>]*>(.*?)</textarea>', page, re.S)
    assert editor and html.unescape(editor[1]).strip() == sql
    error = page.index('class="message-error"')
    assert error < page.index('id="sql-editor"') and "nowhere" in page[error:page.index('id="sql-editor"')]


async def test_row_page_is_titled_by_its_label_and_offers_a_citation(ds: Datasette, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        row_id, title, source_url = conn.execute(
            "select d.id, d.title, s.url from documents d join sources s on s.id = d.source_id order by d.id limit 1"
        ).fetchone()
        version = conn.execute("select value from build_info where key = 'data_version'").fetchone()[0]
    page = (await ds.client.get(f"/{DB}/documents/{row_id}")).text
    assert title_of(page).startswith(title)
    assert re.search(r"<h1>(.*?)</h1>", page)[1] == html.escape(title, quote=False).replace("'", "&#39;")  # type: ignore[index]
    citation = html.unescape(re.search(r'<textarea id="cite-text"[^>]*>(.*?)</textarea>', page, re.S)[1])  # type: ignore[index]
    assert Publication.load(PROJECT_ROOT).url(f"/{DB}/documents/{row_id}") in citation
    assert version in citation and title in citation and source_url in citation
    assert "geraadpleegd op" in citation
    assert "Citeer deze rij" in page and "Links from other tables" not in page


async def test_enum_codes_read_as_words_but_exports_keep_the_code(ds: Datasette, package: Package,
                                                                  db_path: Path) -> None:
    table, column, code = next((r.name, f.name, code) for r in package.resources for f in r.fields
                               for code in f.enum if "_" in code and r.primary_key == ("id",)
                               and sqlite3.connect(db_path).execute(
                                   f"select 1 from [{r.name}] where [{f.name}] = ?", [code]).fetchone())
    page = (await ds.client.get(f"/{DB}/{table}", params={column: code})).text
    assert f'<span title="code: {code}">{code.replace("_", " ")}</span>' in page
    rows = (await ds.client.get(f"/{DB}/{table}.json", params={column: code, "_shape": "array"})).json()
    assert rows and all(row[column] == code for row in rows)


async def test_saved_question_page_leads_with_the_dutch_title_and_hides_the_sql(ds: Datasette) -> None:
    page = (await ds.client.get(f"/{DB}/top3_2024")).text
    title = ds.metadata("queries", database=DB)["top3_2024"]["title"].split(" / ")[0]
    assert title_of(page).startswith(title) and "select" not in title_of(page).lower()
    assert page.index("<h1>") < page.index('class="rows-and-columns"') < page.index("Toon de SQL")
    details = page[page.rindex('<details class="sql-details"', 0, page.index("Toon de SQL")):]
    assert not details.startswith('<details class="sql-details" open')
    assert "Run SQL" not in page and "Charting options" not in page


async def test_every_page_has_the_header_search_and_a_skip_link(ds: Datasette) -> None:
    for path in ("/", f"/{DB}", f"/{DB}/agreements", "/-/charts", "/-/datamodel", "/-/zoeken?q=huur"):
        page = (await ds.client.get(path)).text
        assert '<html lang="nl">' in page, path
        assert '<label for="site-q">Zoek in alle tabellen</label>' in page, path
        assert '<a class="skip-link" href="#inhoud">' in page and 'id="inhoud"' in page, path
