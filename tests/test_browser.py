"""In a real browser (Debian's Chromium through Playwright) against a real `datasette serve`: the
datasette-vega chart draws, and the saved-chart pages render without errors and without a single request
to another host, as they must on an offline intranet. Screenshots go to test-artifacts/."""

from __future__ import annotations

import html
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

from loaders.cli import datasette_args
from loaders.schema import PROJECT_ROOT
from tests.test_charts import SLUGS, assert_not_blank

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
HOST = "127.0.0.1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (CI does)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(db_path: Path) -> Iterator[str]:
    """`datasette serve` exactly as `make serve` runs it, on a free port, stopped after the session."""
    port = free_port()
    args = [*datasette_args(PROJECT_ROOT, db_path), "--host", HOST, "--port", str(port)]
    process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"datasette did not start: {process.stderr.read()[-2000:]!r}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@dataclass
class Visit:
    """What a page did: console errors, failed requests, and every host it asked for."""

    page: Page
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)


@pytest.fixture
async def visit(browser: Browser) -> AsyncIterator[Visit]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    seen = Visit(page)

    async def only_local(route: Any) -> None:
        # Anything for another host is refused (and recorded below), so the test never waits on a network.
        if urlparse(route.request.url).hostname == HOST:
            await route.continue_()
        else:
            await route.abort()

    def on_request(request: Request) -> None:
        if request.url.startswith(("http:", "https:", "ws:", "wss:")):
            seen.hosts.add(urlparse(request.url).hostname or "")

    async def on_response(response: Any) -> None:
        if response.status >= 400:
            seen.failed.append(f"{response.status} {response.url}")

    await context.route("**/*", only_local)
    page.on("request", on_request)
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.failure} {r.url}"))
    page.on("response", on_response)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    yield seen
    await context.close()


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def assert_clean(seen: Visit) -> None:
    assert seen.errors == [], seen.errors
    assert seen.failed == [], seen.failed
    assert seen.hosts == {HOST}, seen.hosts


async def test_datasette_vega_draws_a_chart_from_the_fragment(server: str, visit: Visit) -> None:
    fragment = ("g.mark=bar&g.x_column=theme&g.x_type=nominal&g.y_column=agreements&g.y_type=quantitative"
                "&g.color_column=kind&g.color_type=nominal")
    page = visit.page
    await page.goto(f"{server}/prestatieafspraken/agreements_per_theme_kind#{fragment}")
    # datasette-vega puts its options form in .datasette-vega and the vega-embed chart next to it
    chart = page.locator(".vega-embed canvas.marks, .vega-embed svg.marks").first
    await chart.wait_for(state="visible", timeout=20_000)
    await page.wait_for_timeout(500)  # let vega finish drawing after the element appears
    box = await chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, box
    shot = await chart.screenshot(path=str(artifact("datasette-vega-agreements_per_theme_kind.png")))
    assert_not_blank(shot)
    await page.screenshot(path=str(artifact("datasette-vega-page.png")), full_page=True)
    assert visit.hosts == {HOST}, visit.hosts


@pytest.mark.parametrize("slug", SLUGS)
async def test_chart_page_renders_cleanly(server: str, visit: Visit, slug: str) -> None:
    page = visit.page
    response = await page.goto(f"{server}/-/charts/{slug}", wait_until="networkidle")
    assert response and response.status == 200
    image = page.locator(f'img[src="/-/charts/{slug}.svg"]')
    assert await image.evaluate("img => img.complete && img.naturalWidth") > 300
    shot = await image.screenshot()
    assert_not_blank(shot)
    await page.screenshot(path=str(artifact(f"chart-{slug}.png")), full_page=True)
    assert_clean(visit)


@pytest.mark.parametrize("slug", SLUGS)
async def test_embed_page_renders_cleanly_without_javascript(browser: Browser, server: str, slug: str) -> None:
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 700, "height": 900})
    page = await context.new_page()
    seen = Visit(page)
    page.on("request", lambda r: seen.hosts.add(urlparse(r.url).hostname or ""))
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.failure} {r.url}"))
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    response = await page.goto(f"{server}/-/charts/{slug}/embed", wait_until="networkidle")
    assert response and response.status == 200
    svg = page.locator("figure svg")
    box = await svg.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, box
    assert "Bron:" in await page.locator(".chart-source").inner_text()
    assert_not_blank(await svg.screenshot())
    await page.screenshot(path=str(artifact(f"embed-{slug}.png")), full_page=True)
    assert_clean(seen)
    await context.close()


async def test_iframe_snippet_works_in_another_page(server: str, visit: Visit) -> None:
    """The snippet a web editor copies from the chart page shows the chart inside their page."""
    page = visit.page
    await page.goto(f"{server}/-/charts/sloop-en-nieuwbouw")
    snippets = await page.locator("pre.chart-snippet").all_inner_texts()
    iframe = next(s for s in snippets if s.startswith("<iframe"))
    assert re.search(rf'src="{re.escape(server)}/-/charts/sloop-en-nieuwbouw/embed"', iframe), iframe
    await page.goto(f"{server}/-/charts")  # any same-host page to host the snippet
    await page.set_content(f"<!DOCTYPE html><html><body><p>Raadsvoorstel</p>{html.unescape(iframe)}</body></html>")
    frame = page.frame_locator("iframe")
    await frame.locator("figure svg").wait_for(state="visible", timeout=10_000)
    assert "Bron:" in await frame.locator(".chart-source").inner_text()
    await page.screenshot(path=str(artifact("iframe-snippet.png")), full_page=True)
    assert_clean(visit)
