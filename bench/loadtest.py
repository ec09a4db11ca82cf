"""`make loadtest`: 64 connections for 60 s on 127.0.0.1 against our site on build/prestatieafspraken.db.

wrk rotates over a URL mix (bench/serving.py mix_paths: table pages, JSON, saved queries, search, facets,
chart images, CSV downloads), with `Accept-Encoding: gzip` like a browser. Passes when there is no error at
all: no socket error (connect, read, write, timeout) and no status outside 2xx/3xx. Writes
bench/loadtest.md and bench/loadtest.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import httpx

from loaders.schema import PROJECT_ROOT

from .common import BENCH_DIR, HOST, MIX_LUA, SCRATCH, free_port, machine_info, our_site_command, server, wrk
from .serving import mix_paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=PROJECT_ROOT / "build" / "prestatieafspraken.db")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60)
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
    with server(our_site_command(args.db.resolve(), port), base + "/-/versions.json", "loadtest"):
        with httpx.Client(timeout=60) as client:
            statuses = {p: client.get(base + p).status_code for p in paths}  # every URL works once
        result = wrk(base + "/", connections=args.connections, seconds=args.seconds, script=MIX_LUA,
                     args=[str(paths_file)], headers=["Accept-Encoding: gzip"], threads=2)
    broken = {p: s for p, s in statuses.items() if not 200 <= s < 400}
    passed = result["errors"] == 0 and not broken
    report = {"date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "db": str(args.db),
              "connections": args.connections, "seconds": args.seconds, "paths": paths,
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
        f"`Accept-Encoding: gzip`, rotating over {len(r['paths'])} URLs.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, SQLite {m['sqlite']}, "
        f"datasette {m['packages'].get('datasette')}, {m['wrk']}. The load generator shares the 2 cores.", "",
        f"**Result: {'PASSED' if r['passed'] else 'FAILED'}** — "
        f"{x['status_errors']} responses outside 2xx/3xx, {x['connect_errors']} connect, {x['read_errors']} read, "
        f"{x['write_errors']} write and {x['timeout_errors']} timeout errors.", "",
        "| requests | req/s | MB received | mean ms | p50 ms | p90 ms | p95 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {x['requests']:,} | {x['rps']} | {x['bytes'] / 1e6:.1f} | {x['mean_ms']} | {x['p50_ms']} | "
        f"{x['p90_ms']} | {x['p95_ms']} | {x['p99_ms']} | {x['max_ms']} |", "",
        "URL mix:", "",
        *[f"- `{p}` ({r['first_pass_statuses'].get(p)})" for p in r["paths"]], "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
