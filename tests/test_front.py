# ruff: noqa: F811  (the fixtures server and browser come from tests/test_browser.py)
"""The site as a Dutch journalist uses it, in Debian's Chromium: axe-core finds no critical or serious problem on
any kind of page at desktop and phone width, no page scrolls sideways on a phone, the header search finds places,
projects and figures however they are typed, a saved question shows its answer on the first screen, and the
pages people start from stay light. Uses the server and browser of tests/test_browser.py."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page

from loaders.queries import load_queries
from loaders.schema import PROJECT_ROOT, Package
from loaders.views import column_labels, view_definitions
from loaders.yaml_files import load_yaml
from tests.test_browser import CHROMIUM, MISSING, browser, server  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING),
]

WIDTHS = {"desktop": (1280, 800), "phone": (375, 740)}
PAGES = {
    "home": "/",
    "search results": "/-/zoeken?q=Uithuizen",
    "table": "/prestatieafspraken/specifications",
    "row": "/prestatieafspraken/documents/{document}",
    "saved question": "/prestatieafspraken/top3_2024",
    "chart gallery": "/-/charts",
    "chart": "/-/charts/sloop-en-nieuwbouw",
    "embed": "/-/charts/sloop-en-nieuwbouw/embed",
    "error": "/prestatieafspraken/no-such-table",
}
AXE = Axe()
PAGE_BUDGET = 150_000  # bytes transferred, compressed, on a cold load


def first_document(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return str(conn.execute("select id from documents order by id limit 1").fetchone()[0])


@pytest.fixture(scope="session")
async def shared_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """One context per test process: a new one per test cost about 0.6 s of Chromium's CPU."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    await ctx.close()


@pytest.fixture
async def context(shared_context: BrowserContext) -> AsyncIterator[BrowserContext]:
    """The shared context; the pages a test opens in it are closed after the test."""
    before = set(shared_context.pages)
    yield shared_context
    for page in set(shared_context.pages) - before:
        await page.close()


async def open_page(context: BrowserContext, url: str, width: int, height: int) -> Page:
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": height})
    # "load": every page is rendered on the server and fetches nothing afterwards (test_browser.py, which watches
    # for late requests breaking the CSP, waits for the network to go quiet instead).
    await page.goto(url, wait_until="load")
    return page


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("kind", sorted(PAGES))
async def test_page_has_no_serious_accessibility_problem_and_no_sideways_scroll(
        context: BrowserContext, server: str, db_path: Path, kind: str, width: str) -> None:
    page = await open_page(context, server + PAGES[kind].format(document=first_document(db_path)), *WIDTHS[width])
    assert await page.evaluate("document.documentElement.lang") == "nl"
    results = await AXE.run(page)
    bad = [f"{v['impact']}: {v['id']} ({len(v['nodes'])}×) {v['nodes'][0]['target']} {v['help']}"
           for v in results.response["violations"] if v["impact"] in ("critical", "serious")]
    assert bad == [], bad
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{kind} at {width} scrolls {overflow} px sideways"


async def search_from_header(context: BrowserContext, server: str, words: str) -> dict[str, list[str]]:
    """Type into the header search box of the home page, press Enter, and read the hits per table."""
    page = await open_page(context, server + "/", 1280, 800)
    await page.get_by_label("Zoek in alle tabellen").fill(words)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "/-/zoeken?q=" in page.url
    # Read in one call: a round trip to the browser per link made this the slowest test of the suite.
    sections = await page.locator(".search-results section").evaluate_all(
        """sections => sections.map(s => [
             s.querySelector('h2')?.id || '',
             [...s.querySelectorAll('ol > li > a')].map(a => a.getAttribute('href') || '')])""")
    await page.close()
    return {table.removeprefix("t-"): links for table, links in sections}


async def test_header_search_finds_places_projects_and_figures(context: BrowserContext, server: str,
                                                               db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        ezinge = conn.execute("select id from places where name = 'Ezinge'").fetchone()[0]
    found = await search_from_header(context, server, "Ezinge")
    assert f"/prestatieafspraken/places/{ezinge}" in found["places"]
    assert found.get("specifications"), found.keys()
    found = await search_from_header(context, server, "Uithuizen")
    assert {"places", "projects", "specifications"} <= found.keys(), found.keys()
    assert len(found) >= 8, f"hits in {len(found)} tables: {sorted(found)}"
    assert (await search_from_header(context, server, "energielabel")).get("specifications")


def folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


async def test_search_ignores_case_diacritics_and_hyphens(context: BrowserContext, server: str,
                                                          db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        accented = next(n for (n,) in conn.execute("select name from partners union select name from places "
                                                   "union select name from projects") if folded(n) != n)
        hyphenated = next(n for (n,) in conn.execute("select name from places union select name from projects")
                          if "-" in n)
    assert await search_from_header(context, server, "ezinge") == await search_from_header(context, server, "Ezinge")
    exact = await search_from_header(context, server, accented)
    assert exact and exact == await search_from_header(context, server, folded(accented).lower())
    exact = await search_from_header(context, server, hyphenated)
    assert exact and exact == await search_from_header(context, server, hyphenated.replace("-", " "))
    prefix = await search_from_header(context, server, "Uithui")
    assert set(prefix["places"]) >= set((await search_from_header(context, server, "Uithuizen"))["places"])


async def test_a_search_without_results_says_so_and_helps(context: BrowserContext, server: str) -> None:
    page = await open_page(context, f"{server}/-/zoeken?q={quote_plus('qqzzxx')}", 1280, 800)
    assert "Geen resultaten" in await page.locator(".no-results").inner_text()
    assert await page.locator(".search-results a[href='/prestatieafspraken/places']").count() == 1
    assert await page.get_by_label("Zoek in alle tabellen").input_value() == "qqzzxx"


def saved_questions() -> dict[str, dict[str, str]]:
    return load_queries(PROJECT_ROOT)


@pytest.mark.parametrize("name", sorted(saved_questions()))
async def test_saved_question_shows_its_answer_on_the_first_screen(context: BrowserContext, server: str,
                                                                   name: str) -> None:
    page = await open_page(context, f"{server}/prestatieafspraken/{name}", 1280, 800)
    dutch_title = saved_questions()[name]["title"].split(" / ")[0].strip()
    assert (await page.title()).startswith(dutch_title)
    assert await page.locator("h1").inner_text() == dutch_title
    answer = page.locator("table.rows-and-columns tbody tr, .zero-results").first
    box = await answer.bounding_box()
    assert box is not None and box["y"] + min(box["height"], 40) <= 800, f"answer starts at {box}"
    assert not await page.locator("#sql-query").is_visible()
    await page.get_by_text("Toon de SQL").click()
    assert await page.locator("#sql-query").is_visible()


START_PAGES = ["/", "/prestatieafspraken/specifications", "/prestatieafspraken/documents/{document}"]


@pytest.mark.parametrize("path", START_PAGES)
async def test_pages_people_start_from_are_light_and_load_no_vega(browser: Browser, server: str, db_path: Path,
                                                                  path: str) -> None:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    await page.goto(server + path.format(document=first_document(db_path)), wait_until="networkidle")
    sizes = [(await r.sizes()) for r in responses]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    urls = [r.url for r in responses]
    await ctx.close()
    assert not [u for u in urls if "vega" in u.lower()], urls
    assert total <= PAGE_BUDGET, f"{path}: {total} bytes over {len(urls)} requests"


@pytest.mark.parametrize("slug", [c["slug"] for c in load_yaml(
    (PROJECT_ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]])
async def test_embed_code_is_tall_enough_for_its_content(context: BrowserContext, server: str, slug: str) -> None:
    page = await open_page(context, f"{server}/-/charts/{slug}", 1280, 800)
    snippet = next(s for s in await page.locator("pre.chart-snippet").all_inner_texts() if s.startswith("<iframe"))
    width, height = (int(re.search(rf'{name}="(\d+)"', snippet)[1]) for name in ("width", "height"))  # type: ignore[index]
    embed = await open_page(context, f"{server}/-/charts/{slug}/embed", width, height)
    needed = await embed.evaluate("document.documentElement.scrollHeight")
    assert needed <= height, f"the embed code is {needed - height} px too short"
    assert await embed.evaluate("document.documentElement.scrollWidth") <= width


LABELLED_PAGES = {
    # page -> (table or view whose labels head its columns, a column to hover)
    "/prestatieafspraken/projects_overview?_facet=status&_facet=kind": ("projects_overview", "status"),
    "/prestatieafspraken/specifications": ("specifications", "qualifier"),  # qualifier is a facet in the schema
}


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("path", sorted(LABELLED_PAGES))
async def test_dutch_headings_and_enum_facets_in_the_browser(context: BrowserContext, server: str, package: Package,
                                                             path: str, width: str) -> None:
    """Headings read the schema's labels with the technical name on hover; facets show codes as words; axe-core
    finds nothing critical or serious on a page with facets, at desktop and phone width."""
    table, column = LABELLED_PAGES[path]
    labels = (column_labels(package, table) if table in view_definitions()
              else {f.name: f.title for f in package.resource(table).fields})
    page = await open_page(context, server + path, *WIDTHS[width])
    heading = page.locator(f'table.rows-and-columns th[data-column="{column}"]')
    assert (await heading.inner_text()).strip(" ▲▼\xa0") == labels[column]
    assert (await heading.get_attribute("title") or "").startswith(f"{column}: ")
    facet = page.locator(f"#facet-{column} .facet-info-name strong")
    assert (await facet.inner_text()).startswith(labels[column]) and await facet.get_attribute("title") == column
    values = await page.locator(f"#facet-{column} ul li a:not(.cross)").all_inner_texts()
    assert values and not [v for v in values if "_" in v], values
    results = await AXE.run(page)
    bad = [f"{v['impact']}: {v['id']} ({len(v['nodes'])}×) {v['nodes'][0]['target']} {v['help']}"
           for v in results.response["violations"] if v["impact"] in ("critical", "serious")]
    assert bad == [], bad
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
