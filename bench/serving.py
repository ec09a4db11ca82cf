"""Serving benchmark: our site, bare Datasette and raw sqlite3 on the same requests, in one run.

For each request: wrk at a fixed concurrency against (a) our site (`prestatieafspraken serve`'s exact
command line), (b) bare `datasette serve -i` on the same file, (c) the request's SQL through Python's
sqlite3 in as many threads (the floor), one after the other per request: ours and bare take turns
(`side_by_side`), and each run starts once both servers are idle (`common.settle`), so machine noise hits them
alike. Also: EXPLAIN QUERY PLAN of every saved query, chart images from cache, bytes a browser transfers with and
without gzip, and nginx as a caching proxy in front of two processes.
"""

from __future__ import annotations

import contextlib
import html.parser
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from loaders.queries import load_queries, page_rows
from loaders.schema import PROJECT_ROOT, Package
from loaders.site import DATABASE
from loaders.yaml_files import load_yaml

from . import plans
from .common import (
    BENCH_DIR,
    HOST,
    MIX_LUA,
    SCRATCH,
    bare_command,
    free_port,
    our_site_command,
    peak_rss_mb,
    percentile,
    server,
    settle,
    stop,
    wait_ready,
    wrk,
)

DB = DATABASE
MAX_ROWS = page_rows() - 1  # settings.json max_returned_rows
FLOOR_LIMIT_S = 10.0
# Sensible values for saved-query parameters by name; a parameter not listed here is left empty
# (which the saved queries treat as "everything").
PARAMS = {"document": "hh-pa-2024", "partner": "wierden", "indicator": "woningen", "theme": "", "area": "",
          "q": "huurders", "place": "uithuizen"}
CHART = "top3-2024"


def saved_queries() -> dict[str, dict[str, Any]]:
    return load_queries(PROJECT_ROOT)


def charts() -> list[str]:
    path = PROJECT_ROOT / "charts.yml"
    if not path.exists() or not (PROJECT_ROOT / "plugins" / "charts.py").exists():
        return []
    return [c["slug"] for c in load_yaml(path.read_text(encoding="utf-8"))["charts"]]


def site_search_floor(q: str) -> list[tuple[str, dict[str, Any], int]]:
    """The SQL of /-/zoeken (plugins/search_page.py) as two statements: per table its candidates, its count."""
    per_table = ("select t.tbl, (select {what} from (select rowid, label, path from site_search "
                 "where site_search match site_search_query(:q) and rowid between t.first_rowid and t.last_rowid "
                 "limit {n})) from site_search_tables t")
    return [(per_table.format(what="json_group_array(label)", n=50), {"q": q}, 20),
            (per_table.format(what="count(*)", n=1001), {"q": q}, 20)]


def _saved_query_request(name: str, sql: str, params: dict[str, str], suffix: str) -> dict[str, Any]:
    qs = urllib.parse.urlencode(params)
    bare_sql = sql.replace("fts_query(:q)", ":q")  # bare Datasette has no fts_query(); FTS on raw input
    bare_qs = urllib.parse.urlencode({"sql": bare_sql, **params})
    # Nor the site search functions (loaders/search_match.py): such a query has no bare counterpart.
    bare = None if "site_search_" in sql else f"/{DB}?{bare_qs}"
    return {"name": f"query {name}{suffix}", "kind": "saved query", "ours": f"/{DB}/{name}" + (f"?{qs}" if qs else ""),
            "bare": bare, "floor": [(sql, params, MAX_ROWS + 1)]}


def requests_to_measure() -> list[dict[str, Any]]:
    """name, kind, our path, bare path (None: not available there) and the floor's SQL statements."""
    out: list[dict[str, Any]] = []
    for name, query in saved_queries().items():
        typical = {p: PARAMS.get(p, "") for p in query.get("params", [])}
        # A question as its link on the home page opens it (every parameter empty), and with typical values.
        variants = [("", typical)]
        if any(typical.values()):
            variants.append((" (empty)", dict.fromkeys(typical, "")))
        for suffix, params in variants:
            out.append(_saved_query_request(name, query["sql"], params, suffix))
    page = ("select * from agreements order by id limit 101", {}, 101)
    count = ("select count(*) from agreements", {}, 1)
    out += [
        {"name": "table agreements (HTML)", "kind": "table", "ours": f"/{DB}/agreements",
         "bare": f"/{DB}/agreements", "floor": [page, count]},
        {"name": "table agreements (JSON)", "kind": "table", "ours": f"/{DB}/agreements.json",
         "bare": f"/{DB}/agreements.json", "floor": [page, count]},
        {"name": "facet agreements by kind (JSON)", "kind": "facet", "ours": f"/{DB}/agreements.json?_facet=kind",
         "bare": f"/{DB}/agreements.json?_facet=kind",
         "floor": [page, count, ("select kind, count(*) from agreements group by kind order by 2 desc limit 31",
                                 {}, 31)]},
        {"name": "search agreements 'huurders' (JSON)", "kind": "search",
         "ours": f"/{DB}/agreements.json?_search=huurders", "bare": f"/{DB}/agreements.json?_search=huurders",
         "floor": [("select * from agreements where rowid in (select rowid from agreements_fts where agreements_fts "
                    "match :q) order by id limit 101", {"q": "huurders"}, 101),
                   ("select count(*) from agreements where rowid in (select rowid from agreements_fts where "
                    "agreements_fts match :q)", {"q": "huurders"}, 1)]},
        {"name": "CSV download agreements (1,000 rows)", "kind": "csv", "ours": f"/{DB}/agreements.csv?_size=max",
         "bare": f"/{DB}/agreements.csv?_size=max",
         "floor": [("select * from agreements order by id limit 1001", {}, 1001)]},
    ]
    out += [
        {"name": "facet specifications by unit (JSON)", "kind": "facet",
         "ours": f"/{DB}/specifications.json?_facet=unit", "bare": f"/{DB}/specifications.json?_facet=unit",
         "floor": [("select * from specifications order by id limit 101", {}, 101),
                   ("select unit, count(*) from specifications group by unit order by 2 desc limit 31", {}, 31)]},
        # The schema's facets are on the page (HTML); a JSON answer has only the facets it asks for.
        {"name": "facet agreements filtered kind=actiepunt (HTML)", "kind": "facet",
         "ours": f"/{DB}/agreements?kind=actiepunt", "bare": f"/{DB}/agreements?kind=actiepunt",
         "floor": [("select * from agreements where kind = 'actiepunt' order by id limit 101", {}, 101)]},
        {"name": "table agreements filtered kind=actiepunt (JSON)", "kind": "table",
         "ours": f"/{DB}/agreements.json?kind=actiepunt", "bare": f"/{DB}/agreements.json?kind=actiepunt",
         "floor": [("select * from agreements where kind = 'actiepunt' order by id limit 101", {}, 101)]},
        {"name": "row documents/hh-pa-2024", "kind": "row", "ours": f"/{DB}/documents/hh-pa-2024",
         "bare": f"/{DB}/documents/hh-pa-2024",
         "floor": [("select * from documents where id = 'hh-pa-2024'", {}, 1)]},
        {"name": "site search 'huurders'", "kind": "search", "ours": "/-/zoeken?q=huurders", "bare": None,
         "floor": site_search_floor("huurders")},
    ]
    for resource in Package.load(PROJECT_ROOT).resources:
        if resource.name == "agreements":
            continue
        t = resource.name
        page = (f'select * from "{t}" limit 101', {}, 101)
        out += [{"name": f"table {t} (HTML)", "kind": "table", "ours": f"/{DB}/{t}", "bare": f"/{DB}/{t}",
                 "floor": [page]},
                {"name": f"table {t} (JSON)", "kind": "table", "ours": f"/{DB}/{t}.json", "bare": f"/{DB}/{t}.json",
                 "floor": [page]}]
    for chart in charts():
        out.append({"name": f"chart image {chart}.png (cached)", "kind": "chart", "ours": f"/-/charts/{chart}.png",
                    "bare": None, "floor": []})
    return out


def floor(db: Path, statements: list[tuple[str, dict[str, Any], int]], concurrency: int,
          seconds: float) -> dict[str, Any]:
    """The same SQL straight through sqlite3, `concurrency` threads, each with its own connection."""
    if not statements:
        return {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        conn = plans.connect(db)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            # Like Datasette's sql_time_limit_ms, but 10x as long: the floor shows what the SQL costs.
            conn.set_progress_handler(lambda t0=started: time.perf_counter() - t0 > FLOOR_LIMIT_S, 1000)
            try:
                for sql, params, limit in statements:
                    conn.execute(sql, params).fetchmany(limit)
            except sqlite3.Error:
                errors[0] += 1
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
            "p99_ms": round(percentile(latencies, 99), 2), "errors": errors[0]}


def query_plans(db: Path) -> dict[str, Any]:
    """EXPLAIN QUERY PLAN of every statement a clickable page runs (bench/plans.py): the scans of tables that
    hold more than 10,000 rows here, where they are not bounded by a LIMIT."""
    conn = plans.connect(db)
    large = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")
             if conn.execute(f'select count(*) from "{name}"').fetchone()[0] > 10_000}
    checked = 0
    findings: dict[str, list[str]] = {}
    for page, sql, params in plans.page_queries(conn, Package.load(PROJECT_ROOT), PARAMS):
        checked += 1
        try:
            found = plans.scans(conn, sql, params, large, limited=page.startswith("saved query"))
        except sqlite3.Error as error:
            found = [f"error: {error}"]
        if found:
            findings[page] = found
    conn.close()
    return {"large_tables": sorted(large), "statements": checked, "findings": findings}


# Asks our site to compute the answer in full instead of serving it from plugins/page_cache.py's store.
UNCACHED = ["Cache-Control: no-cache"]


def _measure(base: str, path: str | None, concurrency: int, seconds: float,
             headers: list[str] | None = None) -> dict[str, Any]:
    if path is None:
        return {}
    return wrk(base + path, connections=concurrency, seconds=seconds, headers=headers or [])


PERCENTILES = ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms")
COUNTS = ("requests", "duration_ms", "bytes", "connect_errors", "read_errors", "write_errors", "timeout_errors",
          "status_errors", "errors")


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several wrk runs of one request on one server as one result: counts added, max the largest, and the mean
    and each percentile the mean of the runs' own weighted by their requests (wrk reports percentiles, not the
    latencies; the runs are of the same request, so their distributions are alike)."""
    out = {key: sum(run[key] for run in runs) for key in COUNTS}
    out["max_ms"] = max(run["max_ms"] for run in runs)
    total = out["requests"]
    for key in PERCENTILES:
        out[key] = round(sum(run[key] * run["requests"] for run in runs) / total, 2) if total else runs[0][key]
    out["rps"] = round(out["requests"] / (out["duration_ms"] / 1000), 1)
    out["runs"] = len(runs)
    return out


def side_by_side(ours: str, bare: str | None, concurrency: int, seconds: float, ours_headers: list[str] | None,
                 servers: Sequence[int] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """ours and bare on one request. From 2 s per target on, in the order ours, bare, bare, ours, each for half
    the time (whole seconds, as wrk takes them): a machine that gets busier or quieter while the pair runs weighs
    on both alike, so the ratio of the two measures the servers, not the moment. Shorter: ours, then bare.
    Each run starts once the `servers` (pids) have finished the previous run's work (bench.common.settle)."""
    def run(url: str, secs: float, headers: list[str] | None = None) -> dict[str, Any]:
        settle(servers)
        return wrk(url, connections=concurrency, seconds=secs, headers=headers or [])

    half = round(seconds / 2)
    if bare is None or half < 1:
        return run(ours, seconds, ours_headers), run(bare, seconds) if bare else {}
    first = run(ours, half, ours_headers)
    bare_runs = [run(bare, half) for _ in range(2)]
    last = run(ours, half, ours_headers)
    return combined([first, last]), combined(bare_runs)


def turns_and_settling(tables: Any) -> str:
    """How the rows of latency tables were measured, said from the rows themselves (a run too short to split, or
    without the servers' pids, was measured the older way)."""
    rows = [row for table in tables for row in table]
    turns = any((row.get("ours") or {}).get("runs") for row in rows)
    settled = any(row.get("settled") for row in rows)
    return ("ours and bare take turns, ours, bare, bare, ours, each for half the time (percentiles: the two halves' "
            "weighted by their requests), then sqlite3" if turns else "ours, then bare, then sqlite3") + \
        ("; each run starts once both servers have finished the work of the one before" if settled else "")


def latency_table(db: Path, ours: str, bare: str, concurrency: int, seconds: float,
                  log: Any, cached: bool = False, skip: frozenset[str] = frozenset(),
                  only: Any = None, servers: Sequence[int] = ()) -> list[dict[str, Any]]:
    """ours (computed in full: `Cache-Control: no-cache`), bare and sqlite3 per request; with `cached`, ours
    also as a visitor gets it (from the response store after the first request). `only`: a test on a request
    (bench/pages.py measures the pages alone). `servers`: the pids of both servers; each measurement waits until
    they have finished the work of the one before."""
    rows = []
    for item in requests_to_measure():
        if item["kind"] == "csv" or (only is not None and not only(item)):
            continue  # a download, not a page: not part of the page targets
        if item["ours"] in skip:
            continue
        status_ours: int | str
        status_bare: int | str | None
        with httpx.Client(timeout=30) as client:  # warm each once; check the request works at all
            try:
                status_ours = client.get(ours + item["ours"]).status_code
            except httpx.TimeoutException:
                status_ours = "timeout"
            try:
                status_bare = client.get(bare + item["bare"]).status_code if item["bare"] else None
            except httpx.TimeoutException:
                status_bare = "timeout"
        ours_result, bare_result = side_by_side(ours + item["ours"], bare + item["bare"] if item["bare"] else None,
                                                concurrency, seconds, UNCACHED if item["kind"] != "chart" else None,
                                                servers)
        settle(servers)
        result = {"name": item["name"], "kind": item["kind"], "path": item["ours"], "settled": bool(servers),
                  "status_ours": status_ours, "status_bare": status_bare, "ours": ours_result, "bare": bare_result,
                  "sqlite3": floor(db, item["floor"], concurrency, seconds)}
        if cached and item["kind"] != "chart":
            settle(servers)
            result["ours_cached"] = _measure(ours, item["ours"], concurrency, seconds)
        if result["ours"].get("p50_ms") and result["bare"].get("p50_ms"):
            result["ratio_p50_ours_to_bare"] = round(result["ours"]["p50_ms"] / result["bare"]["p50_ms"], 2)
            result["ratio_rps_ours_to_bare"] = round(result["ours"]["rps"] / result["bare"]["rps"], 2)
        log(f"  {item['name']}: c={concurrency} ours p95 {result['ours'].get('p95_ms')} ms, bare p95 "
            f"{result['bare'].get('p95_ms')} ms, sqlite3 p95 {result['sqlite3'].get('p95_ms')} ms")
        rows.append(result)
    return rows


def chart_cache(ours: str, timeout: float = 10) -> dict[str, Any]:
    """Each chart three times on a freshly started server (the first request renders it), then revalidated.
    A chart whose first answer is not an image, or that takes longer than `timeout`, is recorded as such."""
    slugs = charts()
    if not slugs:
        return {"available": False}
    out: dict[str, Any] = {"available": True, "charts": {}}
    with httpx.Client(timeout=timeout) as client:
        for slug in slugs:
            timings = []
            states = []
            try:
                for _ in range(3):
                    started = time.perf_counter()
                    response = client.get(f"{ours}/-/charts/{slug}.png")
                    timings.append(round((time.perf_counter() - started) * 1000, 1))
                    states.append(response.headers.get("x-chart-cache"))
                    if response.status_code != 200:
                        break
                etag = response.headers.get("etag")
                revalidated = client.get(f"{ours}/-/charts/{slug}.png", headers={"if-none-match": etag or ""})
            except httpx.TimeoutException:
                out["charts"][slug] = {"timeout_s": timeout, "ms": timings}
                continue
            out["charts"][slug] = {"ms": timings, "cache": states, "status": response.status_code,
                                   "bytes": len(response.content), "revalidate_status": revalidated.status_code}
    return out


class _Assets(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"] or "")
        elif tag == "link" and (a.get("rel") or "") in ("stylesheet", "icon") and a.get("href"):
            self.urls.append(a["href"] or "")
        elif tag == "img" and a.get("src"):
            self.urls.append(a["src"] or "")


def page_weight(base: str, path: str) -> dict[str, Any]:
    """Bytes on the wire for a page and its same-origin scripts, styles and images: identity, gzip,
    and a repeat visit that revalidates everything with If-None-Match."""
    with httpx.Client(timeout=60) as client:
        page = client.get(base + path, headers={"accept-encoding": "identity"})
        parser = _Assets()
        parser.feed(page.text)
        urls = [path] + [u for u in dict.fromkeys(parser.urls) if u.startswith("/")]
        result: dict[str, Any] = {"path": path, "resources": len(urls)}
        etags = {}
        for label, encoding in (("identity", "identity"), ("gzip", "gzip")):
            total = 0
            for url in urls:
                with client.stream("GET", base + url, headers={"accept-encoding": encoding}) as r:
                    for _ in r.iter_raw():
                        pass
                    total += r.num_bytes_downloaded
                    etags[url] = r.headers.get("etag")
            result[f"{label}_bytes"] = total
        total = not_modified = 0
        for url in urls:
            r = client.get(base + url, headers={"accept-encoding": "gzip", "if-none-match": etags.get(url) or ""})
            total += r.num_bytes_downloaded
            not_modified += r.status_code == 304
        result["repeat_visit_body_bytes"] = total
        result["repeat_visit_304s"] = f"{not_modified}/{len(urls)}"
        result["gzip_saving"] = round(1 - result["gzip_bytes"] / result["identity_bytes"], 3)
    return result


def mix_paths(all_charts: bool = True) -> list[str]:
    """The URL mix of the nginx comparison and the load test: pages, JSON, queries, search, charts, CSV."""
    paths = [f"/{DB}/agreements", f"/{DB}/agreements.json", f"/{DB}/specifications",
             f"/{DB}/specifications.json?_shape=array", f"/{DB}/agreements_overview",
             f"/{DB}/agreements.json?_search=huurders", f"/{DB}/agreements?_facet=kind",
             f"/{DB}/agreements.csv?_size=max", f"/{DB}/themes.csv", "/", f"/{DB}"]
    for name, query in saved_queries().items():
        params = {p: PARAMS.get(p, "") for p in query.get("params", [])}
        paths.append(f"/{DB}/{name}" + (f"?{urllib.parse.urlencode(params)}" if params else ""))
    slugs = charts()
    paths += [f"/-/charts/{slug}.png" for slug in (slugs if all_charts else [c for c in slugs if c == CHART])]
    return paths


NGINX_TEMPLATE = BENCH_DIR / "nginx.conf"


@contextlib.contextmanager
def nginx(port: int, upstreams: list[int]) -> Iterator[Path]:
    """nginx on 127.0.0.1:port as a caching proxy for the upstream ports; stopped on the way out."""
    prefix = SCRATCH / "nginx"
    if prefix.exists():
        subprocess.run(["rm", "-rf", str(prefix)], check=True)
    (prefix / "cache").mkdir(parents=True)
    (prefix / "logs").mkdir()
    conf = NGINX_TEMPLATE.read_text(encoding="utf-8")
    conf = (conf.replace("{{USER}}", "user root;" if os.geteuid() == 0 else "")
            .replace("{{PREFIX}}", str(prefix)).replace("{{PORT}}", str(port))
            .replace("{{UPSTREAMS}}", "\n".join(f"    server {HOST}:{p};" for p in upstreams)))
    conf_path = prefix / "nginx.conf"
    conf_path.write_text(conf, encoding="utf-8")
    proc = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf_path), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=(prefix / "logs" / "stderr.log").open("wb"),
                            start_new_session=True)
    try:
        wait_ready(f"http://{HOST}:{port}/-/versions.json")
        yield prefix
    finally:
        stop(proc)


def cache_status_counts(prefix: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    log = prefix / "logs" / "access.log"
    if log.exists():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            status = line.rsplit(" ", 1)[-1]
            counts[status] = counts.get(status, 0) + 1
    return counts


def proxy_comparison(db: Path, concurrency: int, seconds: float, log: Any) -> dict[str, Any]:
    """One Datasette process alone vs nginx caching in front of two, on the same URL mix (gzip accepted)."""
    paths_file = SCRATCH / "mix.txt"
    paths = mix_paths(all_charts=False)  # the other charts plot every row: see chart_cache
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    ports = [free_port(), free_port()]
    nginx_port = free_port()
    result: dict[str, Any] = {"connections": concurrency, "seconds": seconds, "paths": len(paths)}
    headers = ["Accept-Encoding: gzip"]
    with server(our_site_command(db, ports[0]), f"http://{HOST}:{ports[0]}/-/versions.json", "proxy-a"), \
            server(our_site_command(db, ports[1]), f"http://{HOST}:{ports[1]}/-/versions.json", "proxy-b"):
        single = f"http://{HOST}:{ports[0]}"
        with httpx.Client(timeout=60) as client:  # the same warm state for everyone: charts rendered once
            for p in paths:
                client.get(single + p)
                client.get(f"http://{HOST}:{ports[1]}" + p)
            etag = client.get(single + "/").headers.get("etag", "")
        result["one_process"] = wrk(single + "/", connections=concurrency, seconds=seconds, script=MIX_LUA,
                                    args=[str(paths_file)], headers=headers)
        log(f"  one process: {result['one_process']['rps']} req/s, p95 {result['one_process']['p95_ms']} ms")
        result["one_process_revalidating"] = wrk(
            single + "/", connections=concurrency, seconds=seconds, script=MIX_LUA, args=[str(paths_file)],
            headers=[*headers, f"If-None-Match: {etag}"])
        log(f"  one process, If-None-Match: {result['one_process_revalidating']['rps']} req/s")
        with nginx(nginx_port, ports) as prefix:
            proxied = f"http://{HOST}:{nginx_port}"
            with httpx.Client(timeout=60) as client:
                for p in paths:  # fill the cache
                    client.get(proxied + p, headers={"accept-encoding": "gzip"})
            result["nginx_two_processes"] = wrk(proxied + "/", connections=concurrency, seconds=seconds,
                                                script=MIX_LUA, args=[str(paths_file)], headers=headers)
            result["nginx_cache_status"] = cache_status_counts(prefix)
            log(f"  nginx + 2 processes: {result['nginx_two_processes']['rps']} req/s, "
                f"p95 {result['nginx_two_processes']['p95_ms']} ms")
    result["speedup_rps"] = round(result["nginx_two_processes"]["rps"] / result["one_process"]["rps"], 1)
    return result


def full_csv_export(base: str, table: str) -> dict[str, Any]:
    """One streamed export of a whole table (?_stream=on): seconds and bytes, plain and gzip."""
    out = {}
    with httpx.Client(timeout=600) as client:
        for encoding in ("identity", "gzip"):
            started = time.perf_counter()
            with client.stream("GET", f"{base}/{DB}/{table}.csv?_stream=on",
                               headers={"accept-encoding": encoding}) as r:
                for _ in r.iter_raw():
                    pass
                out[encoding] = {"status": r.status_code, "seconds": round(time.perf_counter() - started, 2),
                                 "mb": round(r.num_bytes_downloaded / 1e6, 1)}
    return out


def cold_and_warm(base: str, items: list[dict[str, Any]], key: str, repeats: int = 3) -> dict[str, Any]:
    """On a server that has just started: each request's first answer (cold: nothing cached in the process,
    SQLite's page cache empty), then the median of `repeats` more (warm: ours from its response store), and of
    `repeats` more with `Cache-Control: no-cache` (warm, computed in full)."""
    out = {}
    with httpx.Client(timeout=30) as client:
        for item in items:
            if item[key] is None:
                continue
            timings = []
            for _ in range(1 + repeats):
                started = time.perf_counter()
                status = client.get(base + item[key]).status_code
                timings.append((time.perf_counter() - started) * 1000)
            computed = []
            for _ in range(repeats):
                started = time.perf_counter()
                client.get(base + item[key], headers={"cache-control": "no-cache"})
                computed.append((time.perf_counter() - started) * 1000)
            warm = sorted(timings[1:])[repeats // 2]
            out[item["name"]] = {"cold_ms": round(timings[0], 1), "warm_ms": round(warm, 1),
                                 "warm_computed_ms": round(sorted(computed)[repeats // 2], 1), "status": status}
    return out


def bench_serving(db: Path, concurrency: int, seconds: float, log: Any, proxy: bool = True) -> dict[str, Any]:
    ours_port, bare_port = free_port(), free_port()
    ours, bare = f"http://{HOST}:{ours_port}", f"http://{HOST}:{bare_port}"
    result: dict[str, Any] = {"concurrency": concurrency, "seconds_per_request": seconds,
                              "load_average_before": list(os.getloadavg()), "query_plans": query_plans(db)}
    log(f"  plans: {result['query_plans']['statements']} statements, findings: {result['query_plans']['findings']}")
    items = requests_to_measure()
    cold_items = [i for i in items if i["kind"] != "chart"]
    with server(our_site_command(db, ours_port), ours + "/-/versions.json", "ours") as ours_proc, \
            server(bare_command(db, bare_port), bare + "/-/versions.json", "bare") as bare_proc:
        result["charts"] = chart_cache(ours)  # first: each chart's first render on a fresh process
        result["cold_warm"] = {"ours": cold_and_warm(ours, cold_items, "ours"),
                               "bare": cold_and_warm(bare, cold_items, "bare")}
        log("  cold/warm done")
        # A chart that could not be drawn in time on its own is not measured under load (see the chart table).
        failed = frozenset(f"/-/charts/{slug}.png" for slug, c in (result["charts"].get("charts") or {}).items()
                           if c.get("status") != 200)
        servers = (ours_proc.pid, bare_proc.pid)
        result["latency_c1"] = latency_table(db, ours, bare, 1, seconds, log, skip=failed, servers=servers)
        result["seconds_c1"] = seconds
        result["latency"] = latency_table(db, ours, bare, concurrency, seconds, log, cached=True, skip=failed,
                                          servers=servers)
        result["page_weight"] = [page_weight(ours, "/"), page_weight(ours, f"/{DB}/agreements")]
        result["peak_rss_mb"] = {"ours": peak_rss_mb(ours_proc), "bare": peak_rss_mb(bare_proc)}
        result["load_average_after"] = list(os.getloadavg())
    if proxy and shutil.which("nginx"):
        result["proxy"] = proxy_comparison(db, 32, seconds * 3, log)
    elif proxy:
        log("  nginx is not installed (apt-get install -y nginx): proxy comparison skipped")
    return result

