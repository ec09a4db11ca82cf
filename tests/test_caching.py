"""HTTP caching (plugins/http_caching.py) and gzip (plugins/compression.py): headers and bodies, no timing."""

from __future__ import annotations

import contextlib
import gzip
import re
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from loaders.queries import format_query, parse_query
from loaders.site_files import write_site_files
from loaders.yaml_files import load_yaml

from .conftest import ROOT, SAVED_QUERIES, copy_build, make_datasette

CACHEABLE = [
    "/",
    "/prestatieafspraken",
    "/prestatieafspraken/agreements",
    "/prestatieafspraken/agreements.json",
    "/prestatieafspraken/agreements.csv",
    "/prestatieafspraken/agreements_by_document?document=hh-pa-2024",
    "/-/static/app.css",
]
ERRORS = [
    "/no-such-database",
    "/prestatieafspraken/no_such_table",
    "/prestatieafspraken?sql=delete+from+agreements",
    "/prestatieafspraken/agreements.json?_sort=no_such_column",
]
IDENTITY = {"accept-encoding": "identity"}


def timeless(body: bytes) -> bytes:
    """A page without the query time Datasette shows ("took 1.234ms"), which differs between requests."""
    return re.sub(rb"[0-9.]+ ?ms", b"_ms", body)


def data_version(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select value from build_info where key = 'data_version'").fetchone()[0]


@pytest.mark.parametrize("path", CACHEABLE)
async def test_etag_and_long_cache_control(ds, db_path, path):
    response = await ds.client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    etag = response.headers["etag"]
    assert etag.startswith('W/"') and data_version(db_path) in etag
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert "accept-encoding" in response.headers["vary"].lower()


async def test_etag_is_the_same_for_every_page_and_request(ds):
    tags = {(await ds.client.get(path, headers=IDENTITY)).headers["etag"] for path in CACHEABLE * 2}
    assert len(tags) == 1


async def test_etag_is_stable_across_processes_with_the_same_data(ds, db_path):
    other = make_datasette(db_path)
    first = await ds.client.get("/prestatieafspraken/agreements")
    second = await other.client.get("/prestatieafspraken/agreements")
    assert first.headers["etag"] == second.headers["etag"]


async def test_etag_changes_with_the_data(ds, db_path, tmp_path):
    changed = copy_build(db_path, tmp_path / "build")
    with sqlite3.connect(changed) as conn:
        conn.execute("update build_info set value = 'other-release' where key = 'data_version'")
    conn.close()
    old = (await ds.client.get("/")).headers["etag"]
    new = (await make_datasette(changed).client.get("/")).headers["etag"]
    assert new != old and "other-release" in new


@pytest.mark.parametrize("path", CACHEABLE)
async def test_if_none_match_gives_304_without_body(ds, path):
    etag = (await ds.client.get(path)).headers["etag"]
    response = await ds.client.get(path, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "public, max-age=86400"


async def test_if_none_match_also_matches_strong_form_and_lists(ds):
    etag = (await ds.client.get("/")).headers["etag"]
    strong = etag.removeprefix("W/")
    for header in (strong, f'"something-else", {etag}'):
        assert (await ds.client.get("/", headers={"if-none-match": header})).status_code == 304


async def test_a_stale_etag_gets_the_full_page(ds):
    response = await ds.client.get("/", headers={"if-none-match": 'W/"old-release-00000000"'})
    assert response.status_code == 200
    assert b"<html" in response.content


@pytest.mark.parametrize("path", ERRORS)
async def test_no_caching_headers_on_errors(ds, path):
    response = await ds.client.get(path)
    assert response.status_code >= 400
    assert "etag" not in response.headers
    assert "cache-control" not in response.headers
    assert "expires" not in response.headers


async def test_no_caching_headers_on_refused_methods(ds):
    response = await ds.client.post("/prestatieafspraken/agreements", content=b"")
    assert response.status_code == 405
    # nothing a cache could keep: no validator, and either no Cache-Control or an explicit no-store
    assert "etag" not in response.headers
    assert response.headers.get("cache-control", "no-store") == "no-store"


async def test_explicit_no_cache_is_kept(ds):
    response = await ds.client.get("/prestatieafspraken/agreements.json?_ttl=0")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "etag" not in response.headers


@pytest.mark.parametrize("path", [
    "/",
    "/prestatieafspraken/agreements",
    "/prestatieafspraken/specifications.json?_shape=array",
    "/prestatieafspraken/specifications.csv?_stream=on",
    "/-/static/app.css",
])
async def test_gzip_when_accepted_decompresses_to_the_same_content(ds, path):
    plain = await ds.client.get(path, headers=IDENTITY)
    compressed = await ds.client.get(path, headers={"accept-encoding": "gzip"})
    assert plain.status_code == compressed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert compressed.headers["content-encoding"] == "gzip"
    assert timeless(compressed.content) == timeless(plain.content)  # httpx has decoded the gzip stream
    assert "accept-encoding" in compressed.headers["vary"].lower()


async def test_gzip_body_on_the_wire(ds):
    """The bytes sent are a gzip stream that decompresses to the page (checked without httpx decoding)."""
    async with _raw_client(ds) as client:
        response = await client.get("/prestatieafspraken/agreements", headers={"accept-encoding": "gzip"})
        wire = response.content
    plain = (await ds.client.get("/prestatieafspraken/agreements", headers=IDENTITY)).content
    assert wire[:2] == b"\x1f\x8b"
    assert timeless(gzip.decompress(wire)) == timeless(plain)
    assert len(wire) < len(plain) / 2


def _raw_client(ds):
    class Raw(httpx.AsyncBaseTransport):
        """Hands over the response bytes exactly as the app sent them (no content decoding)."""

        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=ds.app())

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.aiter_raw()])
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
            return httpx.Response(response.status_code, headers=headers, content=body)

    return httpx.AsyncClient(transport=Raw(), base_url="http://localhost")


async def test_no_gzip_without_accept_encoding_or_for_png(ds):
    assert "content-encoding" not in (await ds.client.get("/", headers=IDENTITY)).headers
    slug = load_yaml((ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"][0]["slug"]
    png = await ds.client.get(f"/-/charts/{slug}.png", headers={"accept-encoding": "gzip"})
    assert png.status_code == 200, "the chart must render for this test to check anything"
    assert "content-encoding" not in png.headers
    assert png.content.startswith(b"\x89PNG")


async def test_no_gzip_or_caching_headers_leak_onto_404(ds):
    response = await ds.client.get("/prestatieafspraken/no_such_table", headers={"accept-encoding": "gzip"})
    assert response.status_code == 404
    assert "etag" not in response.headers and "cache-control" not in response.headers


async def test_etag_changes_with_anything_the_build_writes(ds, db_path, tmp_path):
    """Same data version, other database bytes (say, a view the loader now defines differently): a new ETag."""
    changed = copy_build(db_path, tmp_path / "build")
    with sqlite3.connect(changed) as conn:
        conn.execute("create view extra_view_for_test as select 1 as x")
    conn.close()
    assert data_version(changed) == data_version(db_path)
    old = (await ds.client.get("/")).headers["etag"]
    new_site = make_datasette(changed)
    new = (await new_site.client.get("/")).headers["etag"]
    assert new != old
    assert (await new_site.client.get("/", headers={"if-none-match": old})).status_code == 200


def _rebuilt_site_with(db_path: Path, tmp_path: Path, package, *, query_sql: tuple[str, str] | None = None,
                       view_sql: tuple[str, str] | None = None) -> Path:
    """The build of db_path again, as `prestatieafspraken build` would write it after one edit: a saved query's
    SQL in queries/ (name, new SQL), or a view's definition (name, new SQL)."""
    changed = copy_build(db_path, tmp_path / "build")
    site_root = tmp_path / "site"
    shutil.copytree(ROOT / "queries", site_root / "queries")
    shutil.copy(ROOT / "metadata.yml", site_root / "metadata.yml")
    shutil.copy(ROOT / "settings.json", site_root / "settings.json")
    if query_sql:
        name, sql = query_sql
        path = site_root / "queries" / f"{name}.sql"
        path.write_text(format_query({**parse_query(path.read_text(encoding="utf-8")), "sql": sql}), encoding="utf-8")
    if view_sql:
        name, sql = view_sql
        with contextlib.closing(sqlite3.connect(changed)) as conn, conn:
            conn.execute(f"drop view {name}")
            conn.execute(f"create view {name} as {sql}")
    write_site_files(package, changed, root=site_root)
    return changed


async def test_etag_changes_with_a_saved_query_and_an_old_etag_gets_the_new_answer(ds, db_path, tmp_path, package):
    path = "/prestatieafspraken/coverage_gaps.json?_shape=array"
    old = await ds.client.get(path)
    sql = f"select * from ({SAVED_QUERIES['coverage_gaps']['sql']}) limit 1"
    site = make_datasette(_rebuilt_site_with(db_path, tmp_path, package, query_sql=("coverage_gaps", sql)))
    new = await site.client.get(path, headers={"if-none-match": old.headers["etag"]})
    assert new.status_code == 200
    assert new.headers["etag"] != old.headers["etag"]
    assert len(old.json()) > 1 and new.json() == old.json()[:1]


async def test_etag_changes_with_a_view_and_an_old_etag_gets_the_new_page(ds, db_path, tmp_path, package):
    path = "/prestatieafspraken/coverage_overview.json?_shape=array"
    old = await ds.client.get(path)
    sql = (await ds.get_database("prestatieafspraken").execute(
        "select sql from sqlite_master where type = 'view' and name = 'coverage_overview'")).rows[0][0]
    body = sql[sql.lower().index(" as ") + 4:]
    changed_view = f"select * from ({body}) where status <> 'opgenomen'"
    site = make_datasette(_rebuilt_site_with(db_path, tmp_path, package, view_sql=("coverage_overview", changed_view)))
    new = await site.client.get(path, headers={"if-none-match": old.headers["etag"]})
    assert new.status_code == 200
    assert new.headers["etag"] != old.headers["etag"]
    assert 0 < len(new.json()) < len(old.json())


async def test_a_chart_image_changes_etag_with_its_saved_query(ds, db_path, tmp_path, package):
    """The chart images carry their own ETag: it too must follow a changed saved query, not only the data."""
    chart = next(c for c in load_yaml((ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]
                 if c["query"] == "missing_per_municipality")
    path = f"/-/charts/{chart['slug']}.svg"
    old = await ds.client.get(path)
    assert old.status_code == 200
    sql = f"select * from ({SAVED_QUERIES['missing_per_municipality']['sql']}) limit 1"
    site = make_datasette(_rebuilt_site_with(db_path, tmp_path, package, query_sql=("missing_per_municipality", sql)))
    new = await site.client.get(path, headers={"if-none-match": old.headers["etag"]})
    assert new.status_code == 200
    assert new.headers["etag"] != old.headers["etag"]
    assert new.content != old.content
