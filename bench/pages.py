"""The pages alone, side by side: `python -m bench.pages <db>` measures the table pages (HTML and JSON), facets,
the row page and the searches of bench/serving.py (its requests, its wrk runs, ours computed in full against bare
Datasette with the same settings and against sqlite3) at 1 and at 8 connections, without the charts, saved
questions, cold starts and nginx of a full serving run, and adds a section to bench/side-by-side.md (issue #16)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from .common import HOST, append_side_by_side, free_port, machine_and_load, machine_info, server
from .run import log
from .serving import bare_command, latency_table, our_site_command, turns_and_settling

PAGE_KINDS = frozenset({"table", "facet", "row", "search"})


def is_page(item: dict[str, Any]) -> bool:
    return item["kind"] in PAGE_KINDS or item["name"] == "query search"


def cell(result: dict[str, Any], key: str, seconds: float) -> str:
    if not result:
        return "—"
    if not result.get("requests"):
        return f"> {seconds * 1000:,.0f}"
    return f"{result[key]:,.1f}"


def section(run: dict[str, Any]) -> str:
    """The run as a Markdown section: per concurrency, p50/p95 of ours, bare and sqlite3, and the ratio at p50."""
    lines = [f"## Pages side by side (bench/pages.py, {run['date']})", "",
             f"`python -m bench.pages {run['db']}`, {run['seconds']:g} s per request and target, one after the other "
             "per request (" + turns_and_settling(run["latency"].values()) + "); ours computed in full "
             "(`Cache-Control: no-cache`). " + machine_and_load(run), ""]
    for concurrency, rows in run["latency"].items():
        lines += [f"### {concurrency} connection{'s' if concurrency != '1' else ''}", "",
                  "| request | ours p50 | ours p95 | bare p50 | bare p95 | sqlite3 p50 | ours/bare p50 |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            ratio = r.get("ratio_p50_ours_to_bare")
            cells = [cell(r[target], key, run["seconds"]) for target, key in
                     (("ours", "p50_ms"), ("ours", "p95_ms"), ("bare", "p50_ms"), ("bare", "p95_ms"),
                      ("sqlite3", "p50_ms"))]
            lines.append(f"| {r['name']} | {' | '.join(cells)} | {ratio if ratio is not None else '—'} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--seconds", type=float, default=2, help="wrk duration per request and target")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args(argv)
    db = args.db.resolve()
    ours_port, bare_port = free_port(), free_port()
    ours, bare = f"http://{HOST}:{ours_port}", f"http://{HOST}:{bare_port}"
    run: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "db": str(args.db),
                           "seconds": args.seconds, "machine": machine_info(), "load_before": list(os.getloadavg()),
                           "latency": {}}
    with server(our_site_command(db, ours_port), ours + "/-/versions.json", "ours") as ours_proc, \
            server(bare_command(db, bare_port), bare + "/-/versions.json", "bare") as bare_proc:
        for concurrency in args.concurrency:
            run["latency"][str(concurrency)] = latency_table(
                db, ours, bare, concurrency, args.seconds, log, only=is_page, servers=(ours_proc.pid, bare_proc.pid))
    run["load_after"] = list(os.getloadavg())
    append_side_by_side(section(run))
    log("added a section to bench/side-by-side.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
