"""`make loadtest`: 64 connections for 60 s on 127.0.0.1 against our site on the built database,
while 50 more clients flood it with hostile requests.

wrk rotates over a URL mix (bench/serving.py mix_paths: table pages, JSON, saved queries, search, facets,
chart images, CSV downloads), with `Accept-Encoding: gzip` like a browser. At the same time a second process
keeps 50 hostile requests in flight (queries that run into the time limit, huge values, results over the
budget, too many facets, abandoned downloads). Passes when the normal traffic has no error at all (no socket
error and no status outside 2xx/3xx), the hostile traffic got only 4xx or 503 answers, and the server grew by
less than 256 MB. Writes bench/loadtest.md and bench/loadtest.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from loaders.cli import DEFAULT_DB
from loaders.schema import PROJECT_ROOT
from loaders.site import DATABASE

from .common import BENCH_DIR, HOST, MIX_LUA, SCRATCH, free_port, machine_info, our_site_command, server, wrk
from .serving import mix_paths

RSS_GROWTH_LIMIT_MB = 256
HOSTILE_SQL = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select zeroblob(999999999)",
    "select length(printf('%.*c', 999999999, 'x'))",
    "with recursive c(x) as (select 1 union all select x + 1 from c limit 1000) select zeroblob(200000) from c",
    "select count(*) from specifications a, specifications b, specifications c, specifications d",
]
HOSTILE_PATHS = [
    *[f"/{DATABASE}.json?sql={quote(sql)}" for sql in HOSTILE_SQL],
    f"/{DATABASE}/agreements.json?" + "&".join(["_facet=kind"] * 300),
    f"/{DATABASE}/agreements?_sort=nope",
    "/-//threads",
]
ABANDONED = f"/{DATABASE}.excel?sql=" + quote(
    "with recursive c(x) as (select 1 union all select x + 1 from c limit 3000000) select x from c")


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def _abandon(base: str) -> str:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {ABANDONED} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status = sock.recv(64).split(b" ")[1].decode()
    return status


def flood(base: str, clients: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Keep `clients` hostile requests in flight for `seconds`; report the answers by status."""
    import httpx

    async def run() -> collections.Counter[str]:
        counts: collections.Counter[str] = collections.Counter()
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as client:
            async def one(n: int) -> None:
                while time.monotonic() < deadline:
                    n += 1
                    try:
                        if n % 10 == 0:
                            counts["abandoned download " + await asyncio.to_thread(_abandon, base)] += 1
                        else:
                            response = await client.get(base + HOSTILE_PATHS[n % len(HOSTILE_PATHS)])
                            counts[str(response.status_code)] += 1
                    except (httpx.HTTPError, OSError) as error:
                        counts[type(error).__name__] += 1
            await asyncio.gather(*[one(i) for i in range(clients)])
        return counts

    out.put(dict(asyncio.run(run())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=PROJECT_ROOT / DEFAULT_DB)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--hostile", type=int, default=50, help="hostile clients in flight at the same time")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"{args.db} does not exist; run `make build` first", file=sys.stderr)
        return 2
    SCRATCH.mkdir(parents=True, exist_ok=True)
    paths = mix_paths()
    paths_file = SCRATCH / "loadtest-paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    port = free_port()
    base = f"http://{HOST}:{port}"
    with server(our_site_command(args.db.resolve(), port), base + "/-/versions.json", "loadtest") as proc:
        with httpx.Client(timeout=60) as client:
            statuses = {p: client.get(base + p).status_code for p in paths}  # every URL works once
        rss_before = rss_mb(proc.pid)
        load_before = os.getloadavg()[0]
        answers: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        hostile = multiprocessing.Process(target=flood, args=(base, args.hostile, args.seconds, answers))
        hostile.start()
        result = wrk(base + "/", connections=args.connections, seconds=args.seconds, script=MIX_LUA,
                     args=[str(paths_file)], headers=["Accept-Encoding: gzip"], threads=2)
        hostile_counts = answers.get(timeout=args.seconds + 120)
        hostile.join(timeout=30)
        time.sleep(2)
        rss_after = rss_mb(proc.pid)
        alive = proc.poll() is None
    broken = {p: s for p, s in statuses.items() if not 200 <= s < 400}
    # Hostile requests may be answered (printf's NULL is a 200) or refused, but never with a server error
    # other than admission control's 503, and never with a dropped connection.
    hostile_ok = all(k[:1] in "234" or k.startswith(("503", "abandoned download 2", "abandoned download 503"))
                     for k in hostile_counts)
    growth = rss_after - rss_before
    passed = result["errors"] == 0 and not broken and alive and hostile_ok and growth < RSS_GROWTH_LIMIT_MB
    report = {"date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "db": str(args.db),
              "connections": args.connections, "seconds": args.seconds, "paths": paths,
              "hostile_clients": args.hostile, "hostile_paths": [*HOSTILE_PATHS, ABANDONED],
              "hostile_answers": hostile_counts, "rss_before_mb": round(rss_before, 1),
              "rss_after_mb": round(rss_after, 1), "server_alive": alive, "load_average_before": load_before,
              "first_pass_statuses": statuses, "result": result, "passed": passed, "machine": machine_info()}
    (BENCH_DIR / "loadtest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (BENCH_DIR / "loadtest.md").write_text(render(report), encoding="utf-8")
    print(render(report))
    return 0 if passed else 1


def render(r: dict) -> str:
    x = r["result"]
    m = r["machine"]
    lines = [
        "# Load test (`make loadtest`)", "",
        f"{r['date']}: {r['connections']} connections for {r['seconds']} s against our site "
        f"(`prestatieafspraken serve` on `{Path(r['db']).name}`), one Datasette process, loopback only, "
        f"`Accept-Encoding: gzip`, rotating over {len(r['paths'])} URLs, while {r['hostile_clients']} hostile "
        "clients kept requests in flight (listed below).",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, SQLite {m['sqlite']}, "
        f"datasette {m['packages'].get('datasette')}, {m['wrk']}. The load generator and the hostile clients share the "
        f"2 cores; load average before the run: {r['load_average_before']:.2f} (other work on the machine).", "",
        f"**Result: {'PASSED' if r['passed'] else 'FAILED'}** — "
        f"{x['status_errors']} responses outside 2xx/3xx, {x['connect_errors']} connect, {x['read_errors']} read, "
        f"{x['write_errors']} write and {x['timeout_errors']} timeout errors.", "",
        "| requests | req/s | MB received | mean ms | p50 ms | p90 ms | p95 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {x['requests']:,} | {x['rps']} | {x['bytes'] / 1e6:.1f} | {x['mean_ms']} | {x['p50_ms']} | "
        f"{x['p90_ms']} | {x['p95_ms']} | {x['p99_ms']} | {x['max_ms']} |", "",
        f"Server memory (RSS): {r['rss_before_mb']} MB before the run, {r['rss_after_mb']} MB after "
        f"(growth {r['rss_after_mb'] - r['rss_before_mb']:.1f} MB; limit {RSS_GROWTH_LIMIT_MB} MB). "
        f"Server still running: {'yes' if r['server_alive'] else 'NO'}.", "",
        "Answers to the hostile clients (status: count; a 503 is a request turned away at once by admission "
        "control, a 400 one stopped by a limit): "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(r["hostile_answers"].items())), "",
        "Hostile requests:", "", *[f"- `{p[:160]}`" for p in r["hostile_paths"]], "",
        "URL mix:", "",
        *[f"- `{p}` ({r['first_pass_statuses'].get(p)})" for p in r["paths"]], "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
