"""The site under attack and under mistakes: bounded work per request, cheap errors, no way to stop it.

In-process checks run through Datasette's test client; the live ones run `prestatieafspraken serve` in a
memory-capped process (tests/conftest.py: live_site), so a regression fails here, not on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from datasette.app import Datasette

from tests.conftest import copy_build, live_site, make_datasette, rss_mb

# Time bounds and memory caps: run alone, after the parallel part of the suite (Makefile: test).
pytestmark = pytest.mark.serial

DB = "prestatieafspraken"
# Queries that each build one huge value in a single SQLite instruction, where no time limit can act.
HUGE_VALUES = [
    "select zeroblob(999999999) as b",
    "select randomblob(1000000000)",
    "select length(printf('%.*c', 999999999, 'x'))",
    "select length(printf('%999999999c', 'x'))",
    "select length(replace(printf('%.*c', 200000, 'x'), 'x', 'xxxxxxxx'))",
    "select length(group_concat(printf('%.*c', 100000, 'x'))) from (select 1 union all select 2 union all select 3)",
    "select hex(zeroblob(200000))",
]
# Many medium values: each allowed, together more than one answer may hold.
MANY_VALUES = ("with recursive c(x) as (select 1 union all select x + 1 from c limit 1000) "
               "select zeroblob(200000) from c")
SLOW_SQL = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def assert_secured(response: httpx.Response) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, (response.url, name)
    script_src = next(d for d in response.headers["content-security-policy"].split(";") if "script-src" in d)
    assert "unsafe" not in script_src, script_src


@pytest.mark.parametrize("sql", HUGE_VALUES)
async def test_huge_values_fail_fast_with_a_clear_400(ds: Datasette, sql: str) -> None:
    started = time.monotonic()
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql})
    elapsed = time.monotonic() - started
    assert response.status_code == 400 or response.json()["rows"][0][0] is None, response.text[:300]
    assert elapsed < 2, elapsed
    assert_secured(response)


async def test_a_result_larger_than_the_budget_is_refused(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}.json", params={"sql": MANY_VALUES})
    assert response.status_code == 400
    assert "too large" in response.json()["error"]


async def test_a_full_page_of_ordinary_rows_is_still_served(ds: Datasette) -> None:
    sql = ("with recursive c(x) as (select 1 union all select x + 1 from c limit 1000) "
           "select x, printf('%.*c', 2000, 'x') as text from c")
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql, "_shape": "array"})
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 1000 and len(rows[-1]["text"]) == 2000


@pytest.mark.parametrize("sql", ["select hex(fts3_tokenizer('simple'))", "select * from pragma_database_list",
                                 "select file from pragma_database_list where seq = 0"])
async def test_sql_that_shows_internals_is_refused(ds: Datasette, db_path: Path, sql: str) -> None:
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql})
    assert response.status_code == 400
    assert str(db_path.parent) not in response.text
    assert "0x" not in response.text.lower()


async def test_introspection_that_leaks_nothing_still_works(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}.json", params={"sql": "select name from pragma_table_info('documents')",
                                                          "_shape": "array"})
    assert response.status_code == 200
    assert {"name": "id"} in response.json()


async def test_printf_still_formats(ds: Datasette) -> None:
    sql = "select printf('%,d | %5.1f | %.*c | %q', 1234567, 3.14159, 3, 'x', 'it''s') as s"
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql, "_shape": "array"})
    assert response.json() == [{"s": "1,234,567 |   3.1 | xxx | it''s"}]


# Mistakes a visitor makes by editing a URL by hand: each is the visitor's, so a 4xx, never a 5xx.
USER_MISTAKES = [
    "/{db}/agreements?_sort=nope", "/{db}/agreements?_sort_desc=nope", "/{db}/agreements?_sort=id&_sort_desc=id",
    "/{db}/agreements.json?_size=abc", "/{db}/agreements.json?_size=-1", "/{db}/agreements?_size=99999999",
    "/{db}/agreements?_next=zzz", "/{db}/agreements?_next=%00", "/{db}/agreements?_facet=nope",
    "/{db}/agreements?_facet_array=nope", "/{db}/agreements?_facet_date=nope", "/{db}/agreements?_facet_size=x",
    "/{db}/agreements?_col=nope", "/{db}/agreements?_nocol=nope", "/{db}/agreements.json?_shape=nope",
    "/{db}/agreements?theme_id__in=%5B", "/{db}/agreements?_through=%7B", "/{db}/agreements?_where=nope(",
    '/{db}/agreements?_through={{"table":"x","column":"y","value":"z"}}',
    "/{db}/agreements?_search=%22&_searchmode=raw",
    "/{db}/agreements?_timelimit=abc", "/{db}/agreements.excel?_sort=nope", "/{db}/agreements.nope",
    "/{db}/agreements/no-such-row", "/{db}/no_such_table", "/no_such_database", "/{db}.json?sql=selec",
    "/{db}.json?sql=select+:p", "/{db}/top3_2024?_sort=nope", "/{db}/agreements?id__gt=1&_next=abc",
    "/-/charts/no-such-chart", "/-/charts/no-such-chart.png", "/-//threads", "/{db}//agreements",
    "/{db}/agreements?" + "&".join(f"_facet=theme_id&x{i}=1" for i in range(40)),
    "/{db}/agreements?" + "&".join(f"_facet=kind{i}" for i in range(11)),
    "/{db}.json?sql=" + "x" * 20_000,
    # found by fuzzing parameter names and values over every page kind
    "/{db}/agreements.csv?_timelimit=-1", "/{db}/agreements?_timelimit=id", "/{db}/top3_2024?_timelimit=array",
    "/{db}/agreements?_facet_array=%7B%22a%22%3A1%7D", "/{db}/agreements?_through=%7B%22a%22%3A1%7D",
    "/{db}/agreements.excel?_facet=%7B%22a%22%3A1%7D", "/{db}/agreement_partners?_through=99999999999999999999",
    "/{db}/agreements.csv?rowid__lt=99999999999999999999", "/{db}/agreements_overview?_next=99999999999999999999",
    "/{db}/agreements_overview?_through=1e999", "/{db}/agreements.json?_where=id&_facet=%00",
    "/{db}/agreements?partner=%241&_where=%241", "/{db}/agreements?title_nl=%00",
]


@pytest.mark.parametrize("path", USER_MISTAKES, ids=lambda p: p[:60])
async def test_user_mistakes_are_4xx_with_headers_and_almost_no_log(ds: Datasette, path: str,
                                                                    capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    response = await ds.client.get(path.format(db=DB))
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert_secured(response)
    assert "Traceback" not in response.text
    out, err = capfd.readouterr()
    assert len(out) + len(err) < 1_000, (out + err)[:500]  # one line at most, never a traceback with locals


async def test_an_unexpected_failure_gets_the_sites_own_500_page(ds: Datasette, db_path: Path,
                                                               capfd: pytest.CaptureFixture[str],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from datasette import hookimpl
    from datasette.plugins import pm

    class Broken:
        __name__ = "broken_for_test"

        @staticmethod
        @hookimpl
        def register_routes() -> list[tuple[str, object]]:
            async def broken() -> None:
                raise RuntimeError(f"secret detail {db_path}")
            return [(r"^/-/broken$", broken)]

    pm.register(Broken(), name="broken_for_test")
    try:
        broken_site = make_datasette(db_path)
        capfd.readouterr()
        response = await broken_site.client.get("/-/broken")
    finally:
        pm.unregister(name="broken_for_test")
    assert response.status_code == 500
    assert "secret detail" not in response.text and str(db_path) not in response.text
    assert '<a href="/">' in response.text
    assert_secured(response)
    assert "Traceback" not in capfd.readouterr().err
    logged = [r.getMessage() for r in caplog.records if r.name == "prestatieafspraken.errors"]
    assert len(logged) == 1 and "RuntimeError" in logged[0] and "\n" not in logged[0], logged


async def test_one_render_per_chart_when_many_ask_at_once(db_path: Path, tmp_path: Path) -> None:
    """16 visitors open a chart image that has not been drawn yet: it is drawn once, not 16 times."""
    fresh = copy_build(db_path, tmp_path / "build")
    with contextlib.closing(sqlite3.connect(fresh)) as conn, conn:
        # a data version no other test has drawn, so the process-wide image cache starts empty for it
        conn.execute("update build_info set value = value || '-singleflight' where key = 'data_version'")
    ds = make_datasette(fresh)
    slug = "sloop-en-nieuwbouw"
    responses = await asyncio.gather(*[ds.client.get(f"/-/charts/{slug}.png") for _ in range(16)])
    assert {r.status_code for r in responses} == {200}
    assert Counter(r.headers["x-chart-cache"] for r in responses)["miss"] == 1
    assert len({r.content for r in responses}) == 1


# ---- against a real server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(db_path: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("hardening") / "server.log"
    with live_site(db_path, log) as (base, proc):
        yield base, proc, log


def get(url: str, timeout: float = 30) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("sql", [*HUGE_VALUES, MANY_VALUES])
def test_no_request_grows_the_server_by_256_mb_or_takes_2_s(site, sql: str) -> None:
    base, proc, _ = site
    before = rss_mb(proc.pid)
    status, elapsed = get(f"{base}/{DB}.json?sql={quote(sql)}")
    assert status in (200, 400), status
    assert elapsed < 2, elapsed
    assert rss_mb(proc.pid) - before < 256
    assert proc.poll() is None


@pytest.mark.slow
def test_home_page_answers_while_200_slow_queries_are_in_flight(site) -> None:
    base, proc, _ = site
    # 200 different queries (the same one 200 times is computed once: the next test).
    urls = [f"{base}/{DB}.json?sql={quote(f'{SLOW_SQL} -- {n}')}" for n in range(200)]
    with ThreadPoolExecutor(max_workers=200) as pool:
        flood = [pool.submit(get, url, 60) for url in urls]
        time.sleep(0.5)
        for path in ("/", f"/{DB}", f"/{DB}/agreements", "/-/static/app.css"):
            status, elapsed = get(base + path)
            assert status == 200 and elapsed < 1, (path, status, elapsed)
        results = [f.result() for f in flood]
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {400, 503}, statuses  # ran into the time limit, or turned away at once
    assert statuses[503] > 150, statuses
    assert max(elapsed for _, elapsed in results) < 10
    assert proc.poll() is None


def test_the_same_slow_query_200_times_at_once_is_computed_once(site) -> None:
    """plugins/page_cache.py lets one request build an answer while the others for the same URL wait for it, so
    they all get its answer (here the time limit's 400) instead of taking every place for ad-hoc SQL or being
    turned away."""
    base, proc, _ = site
    url = f"{base}/{DB}.json?sql={quote(SLOW_SQL + ' -- the same')}"
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda _: get(url, 60), range(200)))
    assert Counter(status for status, _ in results) == {400: 200}
    assert max(elapsed for _, elapsed in results) < 10
    assert get(f"{base}/{DB}.json?sql=select+1")[0] == 200  # no place is left taken
    assert proc.poll() is None


def _abandon(url: str, keep_bytes: int = 200_000) -> None:
    """Start a download, read a little of it, and hang up."""
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    target = "/" + url.removeprefix("http://").split("/", 1)[1]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = 0
        while received < keep_bytes and (chunk := sock.recv(65536)):
            received += len(chunk)


LONG_EXPORT = ("with recursive c(x) as (select 1 union all select x + 1 from c limit 3000000) "
               "select x, printf('%.*c', 100, 'x') as filler from c")


@pytest.mark.slow
def test_an_abandoned_export_stops_and_frees_its_place(site) -> None:
    base, proc, _ = site
    url = f"{base}/{DB}.excel?sql={quote(LONG_EXPORT)}"
    threads = [threading.Thread(target=_abandon, args=(url,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The exports took the places for ad-hoc SQL; once their clients are gone those places must free up.
    deadline = time.monotonic() + 5
    while True:
        status, _ = get(f"{base}/{DB}.json?sql=select+1")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200, "the abandoned exports still hold the SQL places"
    cpu_before = _cpu_seconds(proc.pid)
    time.sleep(2)
    assert _cpu_seconds(proc.pid) - cpu_before < 1, "the server keeps working for nobody"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime in clock ticks (100 Hz)


@pytest.mark.slow
def test_sigterm_ends_the_server_within_seconds_during_a_download(db_path: Path, tmp_path: Path) -> None:
    with live_site(db_path, tmp_path / "server.log") as (base, proc):
        url = f"{base}/{DB}.excel?sql={quote(LONG_EXPORT)}"
        reader = threading.Thread(target=_abandon, args=(url, 10**12), daemon=True)
        reader.start()
        time.sleep(1.5)
        assert proc.poll() is None
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - started < 6


def raw(base: str, target: str) -> tuple[int, bytes]:
    """Send a request target exactly as given (no client normalisation); return status and header block."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    return int(head.split(b" ", 2)[1]), head


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/-//threads", "/-/charts/../../x", "/prestatieafspraken/../../etc/passwd",
                                    "http://evil.example/prestatieafspraken", "/%2e%2e/%2e%2e/x", "/./-/threads",
                                    "//prestatieafspraken", "/prestatieafspraken/agreements?_sort=nope"])
def test_odd_request_targets_get_a_clean_answer_with_headers(site, target: str) -> None:
    base, proc, _ = site
    status, head = raw(base, target)
    assert 400 <= status < 500, (target, status)
    for name in SECURITY_HEADERS:
        assert name.encode() + b":" in head, (target, name)
    assert proc.poll() is None


@pytest.mark.slow
def test_drawing_charts_never_stops_the_server(site) -> None:
    """Chart images are drawn in a worker process: while all of them are being drawn, pages still answer."""
    from tests.test_charts import SLUGS

    base, proc, _ = site
    assert proc.poll() is None
    with ThreadPoolExecutor(max_workers=len(SLUGS)) as pool:
        drawings = [pool.submit(get, f"{base}/-/charts/{slug}.png", 120) for slug in SLUGS]
        waits = []
        while not all(d.done() for d in drawings):
            status, elapsed = get(f"{base}/-/versions.json")
            assert status == 200
            waits.append(elapsed)
            time.sleep(0.1)
        assert {d.result()[0] for d in drawings} == {200}
    assert waits and max(waits) < 1, waits


@pytest.mark.parametrize(("method", "path", "status"), [
    ("POST", "/prestatieafspraken/agreements", 405), ("GET", "/-//threads", 404), ("GET", "/-/threads", 404),
    ("GET", "/prestatieafspraken/agreements?" + "&".join(["_facet=kind"] * 11), 400),
    ("GET", "/prestatieafspraken/agreements?q=" + "x" * 17_000, 414)])
async def test_refusals_are_the_sites_own_error_pages(ds: Datasette, method: str, path: str, status: int) -> None:
    """Refused before Datasette runs, and still a page that helps: search box, a way home, in Dutch."""
    response = await ds.client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert 'action="/-/zoeken"' in response.text and 'href="/"' in response.text
    assert '<html lang="nl"' in response.text
    assert_secured(response)


def test_a_repeated_search_word_is_searched_once() -> None:
    from loaders.fts import fts_query

    assert fts_query("e " * 40) == fts_query("E") == '"e"*'
    assert fts_query("Uithuizen huurders uithuizen") == '"uithuizen"* "huurders"*'
