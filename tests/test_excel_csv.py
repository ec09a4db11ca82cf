"""The `.excel` download (plugins/excel_csv.py): a CSV Dutch Excel opens correctly, with every row.

Checked on the real build (every table, view and saved query), on a temporary database with
more rows than one page and with cells that look like formulas, and with a real spreadsheet
program: LibreOffice converts the download to xlsx and openpyxl reads what it made of it.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette
from datasette.utils.asgi import Request

from loaders.queries import load_queries
from loaders.schema import PROJECT_ROOT
from loaders.search_match import register_functions

DB = "prestatieafspraken"
BOM = b"\xef\xbb\xbf"
BIG_ROWS = 2500  # more than two pages of max_returned_rows (1000)
FORMULAS = ["=1+1", "+31 6", "-x", "@SUM(A1)", "\tx", "\rx"]
SETTINGS = json.loads((PROJECT_ROOT / "settings.json").read_text(encoding="utf-8"))
QUERIES: dict[str, Any] = load_queries(PROJECT_ROOT)
# Parameter values for saved queries; empty matches everything, but an empty search finds nothing.
QUERY_PARAMS = {"search": {"q": "huurders"}}
# LibreOffice CSV import options (https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html):
# separator ; (59), text delimiter " (34), UTF-8 (76), start at line 1, no column formats, language Dutch
# (1043), quoted fields not forced to text, detect special numbers, then the defaults; formulas are evaluated.
LO_FILTER = "CSV:59,34,76,1,,1043,false,true,false,false,false"


def load_plugin(name: str) -> ModuleType:
    """A plugin module itself, for the parts only reachable by calling it directly."""
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", PROJECT_ROOT / "plugins" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plugin() -> ModuleType:
    return load_plugin("excel_csv")


def parse(body: bytes) -> list[list[str]]:
    """The download as rows, after checking the bytes are what Dutch Excel needs."""
    assert body.startswith(BOM), body[:20]
    text = body[len(BOM):].decode("utf-8")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    # Every line ends in CRLF; a bare LF occurs only inside a (quoted) cell.
    assert text.replace("\r\n", "").count("\n") == sum(cell.count("\n") for row in rows for cell in row)
    assert len({len(row) for row in rows}) == 1, "ragged rows"
    return rows


async def download(ds: Datasette, path: str, name: str) -> list[list[str]]:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    rows = parse(response.content)
    assert response.content.split(b"\r\n")[0].count(b";") == len(rows[0]) - 1  # semicolons, not commas
    return rows


def sqlite_rows(db_path: Path, sql: str, params: Any = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db_path)
    register_functions(conn)  # the saved queries' SQL functions, as every Datasette connection has them
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- the real build -----------------------------------------------------------------------------------------


async def test_every_table_and_view_links_and_downloads_all_rows(ds: Datasette, db_path: Path) -> None:
    info = (await ds.client.get(f"/{DB}.json")).json()
    names = [t["name"] for t in info["tables"] if not t["hidden"]] + [v["name"] for v in info["views"]]
    assert "agreements" in names and "specifications_overview" in names
    for name in names:
        page = await ds.client.get(f"/{DB}/{name}")
        assert f"/{DB}/{name}.excel" in page.text, f"{name}: no excel link"
        rows = await download(ds, f"/{DB}/{name}.excel", f"{DB}-{name}.csv")
        count = sqlite_rows(db_path, f'select count(*) from "{name}"')[0][0]
        assert len(rows) - 1 == count, name
        columns = [r[1] for r in sqlite_rows(db_path, f"pragma table_info(\"{name}\")")]
        assert rows[0] == columns, name


@pytest.mark.parametrize("query", sorted(QUERIES))
async def test_every_saved_query_links_and_downloads_all_rows(ds: Datasette, db_path: Path, query: str) -> None:
    params = QUERY_PARAMS.get(query, {})
    qs = "".join(f"&{k}={v}" for k, v in params.items())
    page = await ds.client.get(f"/{DB}/{query}?{qs[1:]}")
    assert f"/{DB}/{query}.excel" in page.text
    rows = await download(ds, f"/{DB}/{query}.excel?{qs[1:]}", f"{DB}-{query}.csv")
    named = {p: params.get(p, "") for p in QUERIES[query].get("params", [])}
    expected = sqlite_rows(db_path, QUERIES[query]["sql"], named)
    assert len(rows) - 1 == len(expected) > 0, query
    # Same rows in the same order: compare the first column as text.
    first = [row[0] for row in rows[1:]]
    assert first == [excel_text(row[0]) for row in expected], query


def excel_text(value: Any) -> str:
    return "" if value is None else str(value).replace(".", ",") if isinstance(value, float) else str(value)


async def test_arbitrary_sql_links_and_downloads(ds: Datasette, db_path: Path) -> None:
    sql = "select id, value from specifications where unit = 'km2' order by id"
    page = await ds.client.get(f"/{DB}", params={"sql": sql})
    assert f"/{DB}.excel?sql=" in page.text
    response = await ds.client.get(f"/{DB}.excel", params={"sql": sql})
    assert response.headers["content-disposition"] == f'attachment; filename="{DB}-query.csv"'
    rows = parse(response.content)
    assert len(rows) - 1 == len(sqlite_rows(db_path, sql))


async def test_filtered_table_gives_only_the_filtered_rows(ds: Datasette, db_path: Path) -> None:
    rows = await download(ds, f"/{DB}/specifications.excel?unit=woningen", f"{DB}-specifications.csv")
    expected = sqlite_rows(db_path, "select count(*) from specifications where unit = 'woningen'")[0][0]
    assert 0 < len(rows) - 1 == expected
    unit = rows[0].index("unit")
    assert {row[unit] for row in rows[1:]} == {"woningen"}


async def test_sort_of_the_table_page_is_kept(ds: Datasette, db_path: Path) -> None:
    rows = await download(ds, f"/{DB}/specifications.excel?_sort_desc=value&unit=km2", f"{DB}-specifications.csv")
    expected = sqlite_rows(db_path, "select id from specifications where unit = 'km2' order by value desc")
    assert [row[0] for row in rows[1:]] == [r[0] for r in expected]


def a_decimal_and_a_whole_number(db_path: Path) -> tuple[tuple[str, float], tuple[str, int]]:
    """(id, value) of a figure with decimals and of one that is a whole number, from the database."""
    decimal = sqlite_rows(db_path, "select id, value from specifications where typeof(value) = 'real' "
                          "and value != cast(value as integer) order by id limit 1")[0]
    whole = sqlite_rows(db_path, "select id, value from specifications where typeof(value) = 'integer' "
                        "and value > 1 order by id limit 1")[0]
    return (decimal[0], decimal[1]), (whole[0], whole[1])


async def test_decimal_comma_and_plain_integers(ds: Datasette, db_path: Path) -> None:
    rows = await download(ds, f"/{DB}/specifications.excel", f"{DB}-specifications.csv")
    value = rows[0].index("value")
    by_id = {row[0]: row for row in rows[1:]}
    (decimal_id, decimal), (whole_id, whole) = a_decimal_and_a_whole_number(db_path)
    assert by_id[decimal_id][value] == repr(decimal).replace(".", ",")
    assert by_id[whole_id][value] == str(whole)


async def test_accented_letters_survive(ds: Datasette) -> None:
    rows = await download(ds, f"/{DB}/agreements.excel", f"{DB}-agreements.csv")
    assert any("geïnformeerd" in cell for row in rows for cell in row)


async def test_later_page_exports_everything(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}/specifications.excel?unit=woningen&_next=x")
    assert response.status_code == 302
    assert response.headers["location"] == f"/{DB}/specifications.excel?unit=woningen"


async def test_bad_sql_is_a_clean_400(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}.excel", params={"sql": "select nope from nowhere"})
    assert response.status_code == 400
    assert "Traceback" not in response.text and "no such table" in response.text


async def test_plain_csv_is_unchanged(ds: Datasette) -> None:
    body = (await ds.client.get(f"/{DB}/specifications.csv")).content
    assert not body.startswith(BOM) and body.split(b"\n")[0].count(b",") > 3 and b";" not in body.split(b"\n")[0]


# --- a temporary database: more rows than a page, and cells that look like formulas --------------------------


@pytest.fixture(scope="module")
def big_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("excel") / "big.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        create table items (id integer primary key, label text, amount real, n integer);
        create table plain (label text, n integer);
        create view items_view as select id, label, amount from items where id % 2 = 0;
        """
    )
    specials = [*FORMULAS, 'semi;colon "quoted"\nnew line', "geïnformeerd, financiële"]
    rows = [(i, specials[i - 1] if i <= len(specials) else f"item {i}", i / 4, i) for i in range(1, BIG_ROWS + 1)]
    rows[len(specials)] = (len(specials) + 1, "negative", -2.5, -5)
    conn.executemany("insert into items values (?, ?, ?, ?)", rows)
    conn.executemany("insert into plain values (?, ?)", [(f"p{i}", i) for i in range(BIG_ROWS)])
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="module")
def big_ds(big_path: Path) -> Datasette:
    return Datasette([str(big_path)], plugins_dir=str(PROJECT_ROOT / "plugins"), settings=SETTINGS)


@pytest.mark.parametrize(
    ("path", "expected_sql"),
    [
        ("/big/items.excel", "select id from items order by id"),  # key paging
        ("/big/plain.excel", "select rowid from plain order by rowid"),  # rowid paging
        ("/big/items_view.excel", "select id from items_view"),  # offset paging
        ("/big/items.excel?_sort_desc=amount", "select id from items order by amount desc"),
        ("/big/items.excel?n__gt=1200", "select id from items where n > 1200 order by id"),
        ("/big.excel?sql=select+id+from+items+order+by+id+desc", "select id from items order by id desc"),
    ],
)
async def test_all_rows_arrive_past_the_first_page(big_ds: Datasette, big_path: Path, path: str,
                                                   expected_sql: str) -> None:
    response = await big_ds.client.get(path)
    assert response.status_code == 200, response.text[:300]
    rows = parse(response.content)
    expected = [str(r[0]) for r in sqlite_rows(big_path, expected_sql)]
    assert len(expected) > SETTINGS["max_returned_rows"]
    assert [row[0] for row in rows[1:]] == expected


async def test_formulas_become_text_and_numbers_stay_numbers(big_ds: Datasette) -> None:
    rows = parse((await big_ds.client.get("/big/items.excel")).content)
    assert rows[0] == ["id", "label", "amount", "n"]
    labels = [row[1] for row in rows[1 : len(FORMULAS) + 1]]
    assert labels == ["'" + f for f in FORMULAS]
    negative = next(row for row in rows if row[1] == "negative")
    assert negative[2:] == ["-2,5", "-5"]
    assert rows[2][2] == "0,5" and rows[4][2] == "1,0"
    assert 'semi;colon "quoted"\nnew line' in [row[1] for row in rows]


async def test_download_is_streamed_in_pages(big_ds: Datasette) -> None:
    messages = await asgi_get(big_ds, "/big/items.excel")
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert len(bodies) >= 3  # one message per page of 1,000 rows, not one big body
    assert bodies[-1].get("more_body", False) is False
    assert b"".join(m["body"] for m in bodies).count(b"\r\n") == BIG_ROWS + 1  # the header too


async def asgi_get(ds: Datasette, path: str) -> list[dict[str, Any]]:
    """Call the ASGI app directly, to see each message (the test client joins them)."""
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": [],
             "server": ("localhost", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await ds.app()(scope, receive, send)
    return messages


SLOW_AFTER_FIRST_PAGE = """
    with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000000)
    select x from c where x <= 1500 or x > 90000000
"""


async def test_time_limit_on_a_later_page_breaks_the_download(big_path: Path) -> None:
    """The status is sent already; the stream must end unfinished, not look like a complete file."""
    ds = Datasette([str(big_path)], plugins_dir=str(PROJECT_ROOT / "plugins"),
                   settings={**SETTINGS, "sql_time_limit_ms": 50})
    messages = await asgi_get(ds, "/big.excel?" + urlencode({"sql": SLOW_AFTER_FIRST_PAGE}))
    assert messages[0]["status"] == 200
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert bodies and all(m.get("more_body") for m in bodies)
    assert b"Traceback" not in b"".join(m["body"] for m in bodies)


async def test_time_limit_on_the_first_page_is_a_clean_400(big_path: Path) -> None:
    ds = Datasette([str(big_path)], plugins_dir=str(PROJECT_ROOT / "plugins"),
                   settings={**SETTINGS, "sql_time_limit_ms": 50})
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000000) select max(x) from c"
    request = Request.fake("/big.excel")
    data = {"query": {"sql": slow, "params": {}}, "columns": ["x"], "database": "big"}
    response = await plugin().render_excel(datasette=ds, request=request, database="big", data=data)
    assert response.status == 400
    assert "te lang" in response.body and "Traceback" not in response.body
    # And through the site: Datasette's own run of the query hits the limit first, also a clean 400.
    site = await ds.client.get("/big.excel", params={"sql": slow})
    assert site.status_code == 400 and "Traceback" not in site.text


def test_cells_and_file_names() -> None:
    module = plugin()
    assert [module.excel_cell(v) for v in (None, 907.71, 547, -5, 0.1, True, "tekst", "-x")] == [
        "", "907,71", "547", "-5", "0,1", "1", "tekst", "'-x"]
    assert module.download_name(DB, 'a b/../"c"') == f"{DB}-a_b_.._c.csv"
    assert module.download_name(DB, None) == f"{DB}-query.csv"


# --- a real client: LibreOffice ------------------------------------------------------------------------------


@pytest.mark.slow
async def test_libreoffice_opens_it_as_dutch_excel_would(ds: Datasette, big_ds: Datasette, db_path: Path,
                                                        tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui")
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads what LibreOffice made of the download")
    files = {
        "specifications": (await ds.client.get(f"/{DB}/specifications.excel")).content,
        "agreements": (await ds.client.get(f"/{DB}/agreements.excel")).content,
        "items": (await big_ds.client.get("/big/items.excel")).content,
        # Control: the same formula without the apostrophe. It must come out as a formula, or this test
        # would prove nothing about neutralisation.
        "control": BOM + b"label\r\n=1+1\r\n",
    }
    for name, body in files.items():
        (tmp_path / f"{name}.csv").write_bytes(body)
    out = tmp_path / "out"
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "xlsx",
         f"--infilter={LO_FILTER}", "--outdir", str(out), *[str(tmp_path / f"{n}.csv") for n in files]],
        check=True, capture_output=True, timeout=180,
    )

    def sheet(name: str) -> list[list[Any]]:
        workbook = openpyxl.load_workbook(out / f"{name}.xlsx")
        return [[cell for cell in row] for row in workbook.active.iter_rows()]

    control = sheet("control")
    assert control[1][0].data_type == "f"

    specs = sheet("specifications")
    columns = [r[1] for r in sqlite_rows(db_path, "pragma table_info(specifications)")]
    assert [c.value for c in specs[0]] == columns
    assert {len(row) for row in specs} == {len(columns)}
    assert len(specs) - 1 == sqlite_rows(db_path, "select count(*) from specifications")[0][0]
    value = columns.index("value")
    by_id = {row[0].value: row for row in specs[1:]}
    (decimal_id, decimal), (whole_id, whole) = a_decimal_and_a_whole_number(db_path)
    cell = by_id[decimal_id][value].value
    assert isinstance(cell, float) and cell == pytest.approx(decimal)
    cell = by_id[whole_id][value].value
    assert cell == whole and isinstance(cell, int)
    assert any("financiële" in str(c.value) for row in specs for c in row)

    agreements = sheet("agreements")
    assert any("geïnformeerd" in str(c.value) for row in agreements for c in row)
    assert len(agreements) - 1 == sqlite_rows(db_path, "select count(*) from agreements")[0][0]

    items = sheet("items")
    assert len(items) - 1 == BIG_ROWS
    assert [c.value for c in items[0]] == ["id", "label", "amount", "n"]
    formula = items[1][1]
    assert formula.data_type != "f" and formula.value == "'=1+1"
    for row in items[1 : len(FORMULAS) + 1]:
        assert row[1].data_type == "s", row[1].value
    negative = next(row for row in items if row[1].value == "negative")
    assert negative[2].value == -2.5 and negative[3].value == -5
    assert all(c.data_type != "f" for row in items for c in row)
    assert "geïnformeerd, financiële" in [row[1].value for row in items]


@pytest.mark.parametrize(
    ("path", "by_key"),
    [("/big/items", True), ("/big/plain", True), ("/big/items?n__gt=5", True), ("/big/items_view", False),
     ("/big/items?_sort=label", False)],
)
async def test_plain_tables_page_by_key(big_ds: Datasette, path: str, by_key: bool) -> None:
    """Key paging (an index seek per page) where the page is in key order; offset paging otherwise."""
    data = (await big_ds.client.get(path.replace("?", ".json?") if "?" in path else path + ".json")).json()
    request = Request.fake(path)
    pager = plugin().make_pager(data, request, 1000)
    assert (pager.key_sql is not None) is by_key
