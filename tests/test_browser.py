"""In a real browser (Debian's Chromium through Playwright) against a real `prestatieafspraken serve`:
every kind of page keeps to the Content-Security-Policy, and the saved-chart pages render without
errors and without a single request to another host, as they must on an offline intranet.
Screenshots are taken into test-artifacts/ only when PRESTATIEAFSPRAKEN_SCREENSHOTS=1 (for a human to look at);
otherwise none is taken, so that a run costs less and leaves nothing behind."""

from __future__ import annotations

import html
import os
import re
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, async_playwright

from loaders.cli import serve_command
from loaders.publication import BASE_URL_ENV
from loaders.schema import PROJECT_ROOT
from tests.test_charts import SLUGS, assert_not_blank

# Debian's Chromium headless shell (package chromium-headless-shell, the build Playwright itself runs headless
# tests in) draws a page for about a third of the CPU of the full browser in headless mode, which made these
# tests most of `make test`; the full browser is the fallback where only `chromium` is installed.
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM = HEADLESS_SHELL if HEADLESS_SHELL.exists() else Path("/usr/bin/chromium")
CHROMIUM_ARGS = ([] if CHROMIUM == HEADLESS_SHELL else ["--headless"]) + [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"]
MISSING = f"{CHROMIUM} is missing: apt-get install chromium-headless-shell (CI does)"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
HOST = "127.0.0.1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(db_path: Path) -> Iterator[str]:
    """`datasette serve` exactly as `make serve` runs it, on a free port, stopped after the session."""
    port = free_port()
    args = serve_command(PROJECT_ROOT, db_path, HOST, port)
    base = f"http://{HOST}:{port}"
    # Deployed at this address: the chart snippets name it (the configured base URL, never the Host header).
    env = {**os.environ, BASE_URL_ENV: base}
    process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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


async def _only_local(route: Any) -> None:
    # Anything for another host is refused (and recorded by the page's listeners), so a test never waits on a network.
    if urlparse(route.request.url).hostname == HOST:
        await route.continue_()
    else:
        await route.abort()


@pytest.fixture(scope="session")
async def scripted_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """One browser context per test process; each test gets a page of its own in it. A new context per test cost
    about 0.6 s of CPU (Chromium sets up a profile for it), more than most of these tests' own work."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    await context.route("**/*", _only_local)
    yield context
    await context.close()


@pytest.fixture(scope="session")
async def scriptless_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """As a reader with JavaScript switched off sees the site."""
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 700, "height": 900})
    yield context
    await context.close()


def watch(page: Page) -> Visit:
    """Record what the page does from now on: console errors, failed requests and the hosts it asks."""
    seen = Visit(page)

    def on_request(request: Request) -> None:
        if request.url.startswith(("http:", "https:", "ws:", "wss:")):
            seen.hosts.add(urlparse(request.url).hostname or "")

    async def on_response(response: Any) -> None:
        if response.status >= 400:
            seen.failed.append(f"{response.status} {response.url}")

    page.on("request", on_request)
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.failure} {r.url}"))
    page.on("response", on_response)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    return seen


@pytest.fixture
async def visit(scripted_context: BrowserContext) -> AsyncIterator[Visit]:
    page = await scripted_context.new_page()
    yield watch(page)
    await page.close()


@pytest.fixture
async def scriptless_visit(scriptless_context: BrowserContext) -> AsyncIterator[Visit]:
    page = await scriptless_context.new_page()
    yield watch(page)
    await page.close()


async def keep_screenshot(page: Page, name: str) -> None:
    """A full-page screenshot in test-artifacts/ for a human to look at, only when asked: taking one costs CPU."""
    if os.environ.get("PRESTATIEAFSPRAKEN_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def assert_clean(seen: Visit) -> None:
    assert seen.errors == [], seen.errors
    assert seen.failed == [], seen.failed
    assert seen.hosts == {HOST}, seen.hosts


# One page of every kind the site serves, scripts and all: none may trip the Content-Security-Policy.
PAGE_KINDS = {
    "home": "/",
    "database": "/prestatieafspraken",
    "table": "/prestatieafspraken/agreements",
    "row": "/prestatieafspraken/documents/{document}",
    "saved question": "/prestatieafspraken/top3_2024",
    "SQL editor": "/prestatieafspraken?sql=select+id%2C+title+from+documents",
    "bad SQL": "/prestatieafspraken?sql=select+nope+from+nowhere",
    "site search": "/-/zoeken?q=Uithuizen",
    "chart gallery": "/-/charts",
    "chart": "/-/charts/sloop-en-nieuwbouw",
    "embed": "/-/charts/sloop-en-nieuwbouw/embed",
    "data model": "/-/datamodel",
    "not found": "/prestatieafspraken/no-such-table",
}


@pytest.mark.parametrize("kind", sorted(PAGE_KINDS))
async def test_no_page_kind_breaks_the_content_security_policy(server: str, visit: Visit, db_path: Path,
                                                               kind: str) -> None:
    with sqlite3.connect(db_path) as conn:
        document = conn.execute("select id from documents order by id limit 1").fetchone()[0]
    page = visit.page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    response = await page.goto(server + PAGE_KINDS[kind].format(document=document), wait_until="networkidle")
    assert response is not None
    own_status = f"the server responded with a status of {response.status}"
    if kind in ("bad SQL", "not found"):
        assert response.status in (400, 404), response.status
        visit.errors = [e for e in visit.errors if own_status not in e]  # the page's own status, as asked
    else:
        assert response.status == 200, response.status
    script_src = next(p for p in response.headers["content-security-policy"].split(";") if "script-src" in p)
    assert "unsafe" not in script_src, script_src
    assert violations == [], violations
    assert visit.errors == [], visit.errors
    assert visit.hosts == {HOST}, visit.hosts


async def test_the_sql_editor_script_runs_under_the_policy(server: str, visit: Visit) -> None:
    """Datasette's inline scripts are allowed by hash: the editor still turns into CodeMirror."""
    page = visit.page
    await page.goto(f"{server}/prestatieafspraken?sql=select+1", wait_until="networkidle")
    await page.locator(".CodeMirror").wait_for(state="visible", timeout=10_000)
    assert visit.errors == [], visit.errors


@pytest.mark.parametrize("slug", SLUGS)
async def test_chart_page_renders_cleanly(server: str, visit: Visit, slug: str) -> None:
    page = visit.page
    response = await page.goto(f"{server}/-/charts/{slug}", wait_until="networkidle")
    assert response and response.status == 200
    image = page.locator(f'img[src="/-/charts/{slug}.svg"]')
    assert await image.evaluate("img => img.complete && img.naturalWidth") > 300
    shot = await image.screenshot()
    assert_not_blank(shot)
    await keep_screenshot(page, f"chart-{slug}.png")
    assert_clean(visit)


@pytest.mark.parametrize("slug", SLUGS)
async def test_embed_page_renders_cleanly_without_javascript(scriptless_visit: Visit, server: str, slug: str) -> None:
    page, seen = scriptless_visit.page, scriptless_visit
    response = await page.goto(f"{server}/-/charts/{slug}/embed", wait_until="networkidle")
    assert response and response.status == 200
    svg = page.locator("figure svg")
    box = await svg.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, box
    assert "Bron:" in await page.locator(".chart-source").inner_text()
    assert_not_blank(await svg.screenshot())
    await keep_screenshot(page, f"embed-{slug}.png")
    assert_clean(seen)


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
    await keep_screenshot(page, "iframe-snippet.png")
    assert_clean(visit)
