"""Hostile requests against the served site: refused or stopped cleanly, nothing written, server stays up."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from tests.conftest import copy_build, make_datasette

DB = "prestatieafspraken"

WRITES = [
    "insert into sources (id, url, title, publisher, retrieved_on) values ('S999', 'x', 'x', 'x', '2026')",
    "update sources set url = 'https://evil.example'",
    "delete from agreements",
    "drop table sources",
    "create table pwned (x)",
    "attach database '/tmp/pwned.db' as pwned",
    "pragma writable_schema = 1",
    "pragma journal_mode = delete",
    "vacuum",
    "replace into sources (id) values ('S001')",
    "select load_extension('/tmp/evil.so')",
    "select writefile('/tmp/pwned.txt', 'x')",
]

SLOW = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select count(*) from specifications a, specifications b, specifications c, specifications d",
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sql", WRITES)
async def test_write_attempts_are_refused(ds: Datasette, db_path: Path, sql: str) -> None:
    before = digest(db_path)
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql})
    assert 400 <= response.status_code < 500, (sql, response.status_code)
    assert "Traceback" not in response.text
    assert digest(db_path) == before
    assert (await ds.client.get("/")).status_code == 200


@pytest.mark.parametrize("sql", SLOW)
async def test_runaway_queries_hit_the_time_limit(ds: Datasette, sql: str) -> None:
    response = await ds.client.get(f"/{DB}.json", params={"sql": sql})
    assert response.status_code == 400
    assert "too long" in response.text.lower()
    assert (await ds.client.get(f"/{DB}/sources.json")).status_code == 200


async def test_too_many_rows_are_truncated_or_refused(ds: Datasette) -> None:
    sql = "with recursive c(x) as (select 1 union all select x + 1 from c limit 50000) select x from c"
    data = (await ds.client.get(f"/{DB}.json", params={"sql": sql})).json()
    assert data["truncated"] is True
    assert len(data["rows"]) == 1000
    response = await ds.client.get(f"/{DB}/specifications.json?_size=100000")
    assert response.status_code == 400


@pytest.mark.parametrize("query", ['_search="', "_search=NEAR(&_searchmode=raw", "_search=%22%22%22&_searchmode=raw",
                                   "_search=*&_searchmode=raw", "_search=a%20OR&_searchmode=raw"])
async def test_malformed_fts_is_a_clean_answer(ds: Datasette, query: str) -> None:
    response = await ds.client.get(f"/{DB}/agreements.json?{query}")
    assert response.status_code in (200, 400), response.text[:300]
    assert "Traceback" not in response.text


async def test_post_to_a_saved_query_is_a_clean_405(ds: Datasette) -> None:
    for path in (f"/{DB}/search", f"/{DB}/sources", f"/{DB}", "/"):
        response = await ds.client.post(path, data={"q": "x"})
        assert response.status_code == 405, path
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    for method in ("PUT", "DELETE", "PATCH"):
        assert (await ds.client.request(method, f"/{DB}/sources")).status_code == 405


async def test_very_long_query_string_is_handled(ds: Datasette) -> None:
    response = await ds.client.get(f"/{DB}.json", params={"sql": "select '" + "x" * 60_000 + "'"})
    assert response.status_code in (200, 400, 414)
    assert (await ds.client.get("/")).status_code == 200


@pytest.fixture(scope="module")
def live_server(db_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """A real `datasette serve`, configured as `make serve` configures it."""
    import socket
    import subprocess
    import time
    import urllib.request

    from loaders.cli import serve_command
    from loaders.schema import PROJECT_ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = serve_command(PROJECT_ROOT, db_path, "127.0.0.1", port)
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    yield base, proc, log
    proc.terminate()
    proc.wait(timeout=20)


def raw_request(base: str, target: str, method: str = "GET") -> int:
    """Send a request with no client-side limits; return the status code (0 if the server hung up)."""
    import socket

    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass
    if not data.startswith(b"HTTP/1.1 "):
        return 0
    return int(data.split(b" ", 2)[1])


@pytest.mark.slow
def test_live_server_survives_hostile_requests(live_server, db_path: Path) -> None:
    from urllib.parse import quote

    base, proc, log = live_server
    before = digest(db_path)
    hostile = [
        "/" + DB + ".json?sql=" + quote("select '" + "x" * 300_000 + "'"),
        "/" + "a" * 100_000,
        "/" + DB + ".json?sql=" + quote(SLOW[0]),
        "/" + DB + ".json?sql=" + quote(WRITES[3]),
        "/" + DB + "/agreements.json?_search=%22&_searchmode=raw",
    ]
    for target in hostile:
        status = raw_request(base, target)
        assert status == 0 or 400 <= status < 500, (target[:80], status)
        assert raw_request(base, "/-/versions.json") == 200, "server did not answer the next request"
    assert raw_request(base, "/" + DB + "/search", method="POST") == 405
    assert raw_request(base, "/") == 200
    assert proc.poll() is None
    assert digest(db_path) == before
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.parametrize("path", ["/", f"/{DB}", f"/{DB}/agreements", f"/{DB}/agreements.json",
                                  f"/{DB}/search?q=huur", "/-/datamodel", "/-/dcat.jsonld"])
async def test_security_headers(ds: Datasette, path: str) -> None:
    response = await ds.client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for directive in csp.split(";"):
        assert "http" not in directive and "*" not in directive.replace("frame-ancestors *", ""), directive
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"]


@pytest.mark.parametrize("path", ["/-/threads.json", "/-/databases.json", "/-/threads", "/-/permissions",
                                  "/-/messages", "/-/allow-debug", "/-/actor.json"])
async def test_debug_pages_that_leak_internals_are_hidden(ds: Datasette, path: str) -> None:
    assert (await ds.client.get(path)).status_code == 404


async def test_no_internal_paths_in_responses(ds: Datasette, db_path: Path) -> None:
    secret = str(db_path.parent)
    for path in ("/", f"/{DB}", f"/{DB}/sources", "/-/versions.json", "/-/plugins.json", "/-/settings.json",
                 "/-/metadata.json", f"/{DB}.json?sql=select+nonsense", f"/{DB}/nope", "/nope"):
        text = (await ds.client.get(path)).text
        assert secret not in text, path
        assert "/work/" not in text and "site-packages" not in text, path
        assert "Traceback" not in text, path


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, db_path: Path) -> Path:
    """The real database with markup smuggled into text, as if a CSV had carried it past the loader."""
    path = copy_build(db_path, tmp_path_factory.mktemp("hostile"))
    conn = sqlite3.connect(path)
    conn.execute("update agreements set title_nl = '<script>alert(1)</script><b>vet</b>' "
                 "where id = 'hh-pa-2024-tripartite-voortgang'")
    conn.execute("update documents set title = '<img src=x onerror=alert(2)>' where id = 'hh-pa-2024'")
    conn.execute("update sources set url = 'javascript:alert(3)' where id = 'S001'")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("path", [f"/{DB}/agreements", f"/{DB}/agreements/hh-pa-2024-tripartite-voortgang",
                                  f"/{DB}/agreements_overview", f"/{DB}/agreements_by_document?document=2024",
                                  f"/{DB}/search?q=alert", f"/{DB}/documents/hh-pa-2024", "/"])
async def test_markup_in_data_is_shown_as_text(hostile_db: Path, path: str) -> None:
    ds = make_datasette(hostile_db)
    page = (await ds.client.get(path)).text
    assert "<script>alert(1)" not in page
    assert "<img src=x onerror" not in page
    assert 'href="javascript:' not in page


async def test_exports_of_markup_are_not_html(hostile_db: Path) -> None:
    ds = make_datasette(hostile_db)
    for path in (f"/{DB}/agreements.json", f"/{DB}/agreements.csv"):
        response = await ds.client.get(path)
        assert "text/html" not in response.headers["content-type"], path
        assert response.headers["x-content-type-options"] == "nosniff"
