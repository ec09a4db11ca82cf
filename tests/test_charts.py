"""Saved charts (/-/charts): every chart in charts.yml is bound to an existing saved query, shows its data,
source and licence, renders to a real SVG and PNG with the source inside, is cached per data version,
and no page loads anything from another origin (the site must work on an offline intranet)."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from markupsafe import escape

from loaders.publication import Publication
from loaders.queries import load_queries
from loaders.schema import PROJECT_ROOT
from loaders.yaml_files import load_yaml

DB = "prestatieafspraken"
CHARTS: list[dict[str, Any]] = load_yaml((PROJECT_ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]
SLUGS = [chart["slug"] for chart in CHARTS]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_info(data: bytes) -> dict[str, int]:
    """Width, height, pixels per metre and how varied the pixels are, without an imaging library.

    `distinct_bytes` counts the byte values in the decompressed (still filtered) scanlines: one flat colour
    gives a handful, a drawn chart with anti-aliased text gives well over a hundred. `distinct_rows` counts
    different scanlines, so an image with only one colour per row does not pass either."""
    chunks = png_chunks(data)
    width, height = struct.unpack(">II", chunks[0][1][:8])
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = len(raw) // height
    rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(height)}
    phys = next((struct.unpack(">I", body[:4])[0] for kind, body in chunks if kind == b"pHYs"), 0)
    return {"width": width, "height": height, "ppm": phys, "distinct_bytes": len(set(raw)),
            "distinct_rows": len(rows)}


def assert_not_blank(data: bytes) -> None:
    info = png_info(data)
    assert info["distinct_bytes"] > 64, info
    assert info["distinct_rows"] > 10, info


def query_rows(db_path: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    return [dict(row) for row in conn.execute(sql)]


def foreign_assets(page: str) -> list[str]:
    """Scripts, stylesheets, images, frames and fonts that would load from another origin."""
    tags = re.findall(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*>", page, flags=re.I)
    urls = [m for tag in tags for m in re.findall(r'(?:src|href|data)\s*=\s*"([^"]*)"', tag)
            if not tag.lower().startswith("<a")]
    css_urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", page) + re.findall(r"@import\s+['\"]([^'\"]+)", page)
    return [u for u in urls + css_urls if re.match(r"^(https?:)?//", u.strip(), flags=re.I)]


def test_charts_yml_is_well_formed() -> None:
    assert len(CHARTS) >= 5
    assert len(set(SLUGS)) == len(SLUGS), "duplicate slug"
    queries = load_queries(PROJECT_ROOT)
    for chart in CHARTS:
        assert re.fullmatch(r"[a-z0-9-]+", chart["slug"]), chart["slug"]
        assert chart["query"] in queries, f"{chart['slug']}: saved query {chart['query']} not in queries/"
        for field in ("title", "description", "alt"):
            assert chart[field]["nl"].strip() and chart[field]["en"].strip(), (chart["slug"], field)
        assert "data" not in chart["spec"], f"{chart['slug']}: the plugin injects the data"


def test_theme_chart_says_2024_is_missing() -> None:
    chart = next(c for c in CHARTS if c["query"] == "agreements_per_theme_kind")
    assert "2024" in chart["description"]["nl"] and "ontbreken" in chart["description"]["nl"]
    assert "2024" in chart["description"]["en"] and "missing" in chart["description"]["en"]


async def test_gallery_lists_every_chart(ds: Datasette) -> None:
    page = await ds.client.get("/-/charts")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for chart in CHARTS:
        assert f'href="/-/charts/{chart["slug"]}"' in page.text
        assert f'src="/-/charts/{chart["slug"]}.svg"' in page.text
        assert chart["title"]["nl"] in text and chart["description"]["nl"] in text


@pytest.mark.parametrize("slug", SLUGS)
async def test_chart_page_shows_chart_data_and_source(ds: Datasette, db_path: Path, slug: str) -> None:
    chart = next(c for c in CHARTS if c["slug"] == slug)
    page = await ds.client.get(f"/-/charts/{slug}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert chart["title"]["nl"] in text and chart["title"]["en"] in text
    assert chart["alt"]["nl"] in text and chart["alt"]["en"] in text
    assert f'<img src="/-/charts/{slug}.svg" alt="{html.escape(chart["alt"]["nl"])}"' in page.text.replace(
        "&#39;", "&#x27;")
    query = (await ds.client.get(f"/{DB}/{chart['query']}.json?_shape=array")).json()
    assert query, f"saved query {chart['query']} returns no rows"
    for row in query:
        for value in row.values():
            if value is not None:
                assert f"<td>{value}</td>" in text, (slug, value)
    info = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())
    assert "Bron: " in text and info["data_version"] in text and info["built_at"][:10] in text
    assert "https://creativecommons.org/licenses/by/4.0/" in page.text
    for publisher, url in {(r.get("source_publisher"), r.get("source_url")) for r in query}:
        assert publisher is None or publisher in text
        assert url is None or f'href="{html.escape(url)}"' in page.text


async def test_sloop_en_nieuwbouw_values(ds: Datasette) -> None:
    rows = (await ds.client.get(f"/{DB}/demolition_vs_newbuild.json?_shape=array")).json()
    homes = sorted(row["homes"] for row in rows)
    assert homes and all(isinstance(h, int) for h in homes)
    page = (await ds.client.get("/-/charts/sloop-en-nieuwbouw")).text
    assert all(f"<td>{h}</td>" in page for h in homes)
    spec = (await ds.client.get("/-/charts/sloop-en-nieuwbouw.vl.json")).json()
    assert sorted(row["homes"] for row in spec["data"]["values"]) == homes


@pytest.mark.parametrize("slug", SLUGS)
async def test_every_local_link_on_the_chart_page_answers(ds: Datasette, slug: str) -> None:
    page = (await ds.client.get(f"/-/charts/{slug}")).text
    links = set(re.findall(r'(?:href|src)="(/[^"]*)"', page))
    query = next(c for c in CHARTS if c["slug"] == slug)["query"]
    for wanted in (f"/{DB}/{query}.csv", f"/{DB}/{query}.json?_shape=array", f"/-/charts/{slug}.png",
                   f"/-/charts/{slug}.svg", f"/-/charts/{slug}.vl.json", f"/-/charts/{slug}/embed"):
        assert html.escape(wanted) in {html.escape(link) for link in links} or wanted in links, wanted
    for link in links:
        response = await ds.client.get(html.unescape(link))
        assert response.status_code == 200, link
    csv_text = (await ds.client.get(f"/{DB}/{query}.csv")).text
    assert len(csv_text.splitlines()) >= 2


@pytest.mark.parametrize("slug", SLUGS)
async def test_svg_is_valid_and_carries_title_and_source(ds: Datasette, slug: str) -> None:
    chart = next(c for c in CHARTS if c["slug"] == slug)
    response = await ds.client.get(f"/-/charts/{slug}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(root.itertext())
    assert chart["title"]["nl"] in text
    assert "Bron:" in text and "CC BY 4.0" in text
    assert "http://" not in response.text.replace("http://www.w3.org/", "")
    assert "https://" not in response.text


@pytest.mark.parametrize("slug", SLUGS)
async def test_png_is_a_sharp_a4_sized_picture(ds: Datasette, slug: str) -> None:
    response = await ds.client.get(f"/-/charts/{slug}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    info = png_info(response.content)
    # print quality: at least 1,800 px, 300 ppi (11811 px per metre), so Word inserts it 15 cm wide on A4
    assert info["width"] >= 1800, info
    assert 150 <= info["height"] <= 6000, info
    assert info["ppm"] == 11811, info
    assert 15 <= info["width"] / info["ppm"] * 100 <= 17.5, info
    assert "content-disposition" not in response.headers  # inline, for an <img>
    assert_not_blank(response.content)


async def test_download_links_save_a_file_and_scale_is_bounded(ds: Datasette) -> None:
    slug = SLUGS[0]
    page = (await ds.client.get(f"/-/charts/{slug}")).text
    for fmt in ("png", "svg"):
        assert f'href="/-/charts/{slug}.{fmt}?download=1"' in page
        response = await ds.client.get(f"/-/charts/{slug}.{fmt}?download=1")
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{slug}.{fmt}"'
    default = png_info((await ds.client.get(f"/-/charts/{slug}.png")).content)["width"]
    huge = png_info((await ds.client.get(f"/-/charts/{slug}.png?scale=1000")).content)["width"]
    small = png_info((await ds.client.get(f"/-/charts/{slug}.png?scale=nan")).content)["width"]
    assert default < huge <= default * 6, (default, huge)
    assert small < default, (small, default)


async def test_dutch_number_format_in_the_image(ds: Datasette) -> None:
    svg = (await ds.client.get("/-/charts/ambitiekader-kerncijfers.svg")).text
    assert "meer dan 48.000 inwoners" in svg
    assert "minstens 5.600 woningen" in svg


@pytest.mark.parametrize(("slug", "fmt"), [(slug, fmt) for slug in SLUGS for fmt in ("svg", "png")])
async def test_images_are_cached_per_data_version(ds: Datasette, db_path: Path, slug: str, fmt: str) -> None:
    first = await ds.client.get(f"/-/charts/{slug}.{fmt}")
    second = await ds.client.get(f"/-/charts/{slug}.{fmt}")
    assert first.headers["x-chart-cache"] in ("hit", "miss")
    assert second.headers["x-chart-cache"] == "hit"
    assert first.content == second.content
    data_version = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())[
        "data_version"]
    assert second.headers["cache-control"] == "public, max-age=86400"
    etag = second.headers["etag"]
    assert data_version in etag and slug in etag
    not_modified = await ds.client.get(f"/-/charts/{slug}.{fmt}", headers={"if-none-match": etag})
    assert not_modified.status_code == 304


@pytest.mark.parametrize("slug", SLUGS)
async def test_spec_is_self_contained(ds: Datasette, slug: str) -> None:
    chart = next(c for c in CHARTS if c["slug"] == slug)
    response = await ds.client.get(f"/-/charts/{slug}.vl.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["$schema"].endswith("/vega-lite/v5.json")
    rows = (await ds.client.get(f"/{DB}/{chart['query']}.json?_shape=array")).json()
    assert spec["data"]["values"] == rows
    assert spec["title"]["text"] == chart["title"]["nl"]
    assert any("Bron:" in line for line in spec["title"]["subtitle"])
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert '"url"' not in json.dumps(spec), "a spec must not load data from a URL"


@pytest.mark.parametrize("slug", SLUGS)
async def test_embed_page_is_minimal_and_self_contained(ds: Datasette, db_path: Path, slug: str) -> None:
    chart = next(c for c in CHARTS if c["slug"] == slug)
    page = await ds.client.get(f"/-/charts/{slug}/embed")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert chart["title"]["nl"] in text
    assert "<svg" in page.text and "<script" not in page.text and "<link" not in page.text
    data_version = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())[
        "data_version"]
    assert "Bron: " in text and data_version in text and "CC BY 4.0" in text
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in page.text


@pytest.mark.parametrize("path", ["/-/charts/bestaat-niet", "/-/charts/bestaat-niet.svg",
                                  "/-/charts/bestaat-niet.png", "/-/charts/bestaat-niet.vl.json",
                                  "/-/charts/bestaat-niet/embed", "/-/charts/Hoofd_Letters",
                                  "/-/charts/top3_2024", "/-/charts/top3-2024.gif"])
async def test_unknown_chart_is_a_clean_404(ds: Datasette, path: str) -> None:
    response = await ds.client.get(path)
    assert response.status_code == 404, path
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", ["/-/charts", *(f"/-/charts/{s}" for s in SLUGS),
                                  *(f"/-/charts/{s}/embed" for s in SLUGS)])
async def test_no_page_loads_from_another_origin(ds: Datasette, path: str) -> None:
    page = await ds.client.get(path)
    assert page.status_code == 200
    assert foreign_assets(page.text) == [], path


def test_foreign_asset_check_catches_cdns() -> None:
    page = ('<script src="https://cdn.jsdelivr.net/npm/vega"></script>'
            '<link rel="stylesheet" href="//fonts.googleapis.com/css">'
            '<a href="https://hoheg.nl/">bron</a><img src="/-/charts/x.svg">')
    assert foreign_assets(page) == ["https://cdn.jsdelivr.net/npm/vega", "//fonts.googleapis.com/css"]


async def test_menu_links_to_the_gallery(ds: Datasette) -> None:
    page = await ds.client.get("/")
    assert 'href="/-/charts"' in page.text


async def test_snippets_name_the_configured_site_not_the_request_host(ds: Datasette) -> None:
    slug = SLUGS[0]
    page = (await ds.client.get(f"/-/charts/{slug}", headers={"host": "elders.example"})).text
    publication = Publication.load(PROJECT_ROOT)
    assert html.escape(publication.url(f"/-/charts/{slug}/embed")) in page
    assert publication.url(f"/-/charts/{slug}.png") in page
    assert "elders.example" not in page
    chart = next(c for c in CHARTS if c["slug"] == slug)
    assert str(escape(chart["alt"]["nl"])) in page.split("&lt;iframe", 1)[1]  # alt text offered with the embed code


async def test_asked_scales_are_few_so_images_stay_few(ds: Datasette) -> None:
    """Scales differing in the third decimal are one image: asking for thousands cannot make thousands."""
    slug = SLUGS[0]
    images = {(await ds.client.get(f"/-/charts/{slug}.png?scale={2 + i / 1000}")).content for i in range(1, 40)}
    assert len(images) == 1
    etags = {(await ds.client.get(f"/-/charts/{slug}.png?scale={s}")).headers["etag"]
             for s in ("2.1", "2.2", "1.9", "inf", "6", "-inf", "0")}
    assert len(etags) == 3, etags  # 2.0, 6.0 and 1.0


# A parent that ends without cleaning up: SIGKILL of the server, or os._exit as pytest-xdist workers do.
_ABRUPT_PARENT = """
import os
from loaders import chart_render
if __name__ == "__main__":
    chart_render.start()
    print(*[p.pid for p in chart_render._pool._processes.values()], flush=True)
    os._exit(0)
"""


def test_the_drawing_worker_ends_with_a_parent_that_was_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(_ABRUPT_PARENT, encoding="utf-8")
    # The orphan would keep an inherited stdout open, so the worker's id is read from a file, not a pipe.
    out = tmp_path / "pid"
    with out.open("w") as handle:
        subprocess.run([sys.executable, str(script)], cwd=PROJECT_ROOT, stdout=handle, timeout=120, check=True,
                       env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    (pid,) = map(int, out.read_text().split())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "the chart worker outlived its parent"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_value_lists_in_chart_specs_come_from_the_schema(ds: Datasette, package: Any) -> None:
    from datasette.plugins import pm

    chart_plugin = pm.get_plugin("charts.py")
    referenced = [c for c in CHARTS if "{'enum'" in str(c["spec"])]
    assert referenced, "charts.yml names no enum list by reference any more"
    for chart in referenced:
        served = chart_plugin.charts()[chart["slug"]]["spec"]
        assert "{'enum'" not in str(served), chart["slug"]
    kinds = list(package.resource("agreements").field("kind").enum)
    spec = chart_plugin.charts()["afspraken-per-thema"]["spec"]
    assert kinds[0] in str(spec) and str(kinds) in str(spec)
    with pytest.raises(ValueError, match="names no field with an enum list"):
        chart_plugin.with_enums({"scale": {"domain": {"enum": "agreements.title_nl"}}}, "x")


def _rows(db_path: Path, sql: str, params: dict[str, str]) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def test_a_chart_with_top_draws_the_largest_groups_in_the_query_order(db_path: Path) -> None:
    from plugins.charts import chart_sql

    sql = load_queries(PROJECT_ROOT)["missing_per_municipality"]["sql"]
    params = {"municipality": ""}
    rows = _rows(db_path, sql, params)
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row["municipality"]] = sizes.get(row["municipality"], 0) + 1
    ranked = sorted(sizes, key=lambda name: (-sizes[name], name))
    assert len(ranked) > 2, "needs three municipalities with missing parts"
    two = _rows(db_path, chart_sql({"top": {"column": "municipality", "count": 2}}, sql), params)
    assert two == [row for row in rows if row["municipality"] in ranked[:2]]
    # A row budget smaller than the largest group still draws that group, and only that one.
    one = _rows(db_path, chart_sql({"top": {"column": "municipality", "count": 2, "rows": 1}}, sql), params)
    assert one == [row for row in rows if row["municipality"] == ranked[0]]
    # Ranked by the sum of a column.
    sql = load_queries(PROJECT_ROOT)["agreements_per_theme_kind"]["sql"]
    rows = _rows(db_path, sql, params)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["document"]] = totals.get(row["document"], 0) + row["agreements"]
    first = sorted(totals, key=lambda name: (-totals[name], name))[0]
    top = _rows(db_path, chart_sql({"top": {"column": "document", "count": 1, "by": "agreements"}}, sql), params)
    assert top == [row for row in rows if row["document"] == first]


def test_a_long_list_of_publishers_is_cut_after_a_whole_name() -> None:
    from plugins.charts import MORE_PUBLISHERS, PUBLISHERS_MAX, shortened

    names = ", ".join(f"Uitgever {n}" for n in range(100))
    line = shortened(names)
    assert line.endswith(MORE_PUBLISHERS) and len(line) <= PUBLISHERS_MAX + len(MORE_PUBLISHERS) + 1
    assert names.startswith(line.removesuffix(" " + MORE_PUBLISHERS) + ", ")
    assert shortened("Gemeente Het Hogeland") == "Gemeente Het Hogeland"


def test_every_chart_that_chooses_rows_says_so() -> None:
    for chart in CHARTS:
        if chart.get("top"):
            assert "hoogstens" in (chart["description"]["nl"] + chart.get("note", "")).lower(), chart["slug"]
            assert "at most" in chart["description"]["en"].lower(), chart["slug"]
