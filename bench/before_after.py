"""A change measured side by side: `python -m bench.before_after <db> --before main` serves the same database with
the site of another git revision (before), with this tree (after) and with bare Datasette (same settings), and
measures each request of bench/serving.py on the three back to back with wrk, at 1 and at 8 connections; ours
computed in full (`Cache-Control: no-cache`). It adds a section to bench/side-by-side.md.

The before site is `git archive <ref>` unpacked into bench/scratch/ and run with this tree's Python environment
(its own code first on the path), so only the site's code differs between before and after. Both read the
metadata and inspect data the build wrote next to the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import httpx

from loaders.cli import serve_command
from loaders.schema import PROJECT_ROOT

from .common import (
    HOST,
    SCRATCH,
    append_side_by_side,
    bare_command,
    free_port,
    machine_and_load,
    machine_info,
    server,
)
from .run import log
from .serving import UNCACHED, _measure, requests_to_measure

# The requests issue #16 found slowest against bare at 1 connection: saved questions with many rows rendered as
# HTML, small ones, a row page, table pages.
DEFAULT_REQUESTS = [
    "query themes_over_years", "query partner_timeline", "query missing_per_municipality",
    "query demolition_newbuild_per_municipality", "query agreements_per_theme_kind", "query coverage_gaps",
    "query top3_2024_per_municipality", "query places_map", "query top3_2024", "row documents/hh-pa-2024",
    "table agreements (HTML)", "table sources (HTML)", "table documents (HTML)", "table specifications (HTML)",
    "table partners (HTML)", "table themes (HTML)",
]
TARGETS = ("before", "after", "bare")


def unpack(ref: str) -> tuple[Path, str]:
    """The tree of git revision `ref` in bench/scratch/before, and its commit."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=PROJECT_ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    root = SCRATCH / "before"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    archive = root / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", commit], cwd=PROJECT_ROOT, check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    archive.unlink()
    return root, commit


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if a.get("p50_ms") and b.get("p50_ms"):
        return round(a["p50_ms"] / b["p50_ms"], 2)
    return None


def measure(bases: dict[str, str], names: list[str], concurrency: int, seconds: float) -> list[dict[str, Any]]:
    items = {item["name"]: item for item in requests_to_measure()}
    rows = []
    for name in names:
        item = items[name]
        paths = {"before": item["ours"], "after": item["ours"], "bare": item["bare"]}
        row: dict[str, Any] = {"name": name, "path": item["ours"]}
        with httpx.Client(timeout=60) as client:  # each warm once (first reads, caches of the process)
            row["status"] = {t: client.get(bases[t] + paths[t], headers={"cache-control": "no-cache"}).status_code
                             for t in TARGETS}
        for target in TARGETS:
            row[target] = _measure(bases[target], paths[target], concurrency, seconds,
                                   UNCACHED if target != "bare" else None)
        row["after_to_bare"] = ratio(row["after"], row["bare"])
        row["before_to_bare"] = ratio(row["before"], row["bare"])
        row["after_to_before"] = ratio(row["after"], row["before"])
        log(f"  {name} c={concurrency}: p50 before {row['before'].get('p50_ms')} after {row['after'].get('p50_ms')} "
            f"bare {row['bare'].get('p50_ms')} ms")
        rows.append(row)
    return rows


def section(run: dict[str, Any]) -> str:
    def ms(result: dict[str, Any], key: str) -> str:
        if not result.get("requests"):
            return "—"
        return f"{result[key]:,.1f}" + (f" ({result['errors']} err)" if result.get("errors") else "")

    lines = [f"## Before and after, side by side (bench/before_after.py, {run['date']})", "",
             f"`python -m bench.before_after {run['db']} --before {run['before_ref']}`: before = {run['before_ref']} "
             f"({run['before_commit']}), after = this tree ({run['after_commit']}), bare = `datasette serve -i` with "
             f"the same settings, on the same database; {run['seconds']:g} s of wrk per request and target, the "
             "three back to back per request; ours computed in full (`Cache-Control: no-cache`). "
             + machine_and_load(run), ""]
    for concurrency, rows in run["latency"].items():
        lines += [f"### {concurrency} connection{'s' if concurrency != '1' else ''} (ms)", "",
                  "| request | before p50 | after p50 | bare p50 | before p95 | after p95 | bare p95 | "
                  "before/bare p50 | after/bare p50 | after/before p50 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            cells = [ms(r[t], "p50_ms") for t in TARGETS] + [ms(r[t], "p95_ms") for t in TARGETS]
            ratios = [str(r[k]) if r[k] is not None else "—" for k in ("before_to_bare", "after_to_bare",
                                                                       "after_to_before")]
            lines.append(f"| {r['name']} | {' | '.join(cells)} | {' | '.join(ratios)} |")
        met = sum(1 for r in rows if r["after_to_bare"] is not None and r["after_to_bare"] <= 1.0)
        was = sum(1 for r in rows if r["before_to_bare"] is not None and r["before_to_bare"] <= 1.0)
        lines += ["", f"At or under bare at p50: after {met} of {len(rows)}, before {was} of {len(rows)}.", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--before", default="main", help="git revision of the before site")
    parser.add_argument("--seconds", type=float, default=2, help="wrk duration per request and target")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--requests", nargs="+", default=DEFAULT_REQUESTS, help="names from bench/serving.py")
    args = parser.parse_args(argv)
    db = args.db.resolve()
    before_root, before_commit = unpack(args.before)
    after_commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip()
    ports = {target: free_port() for target in TARGETS}
    bases = {target: f"http://{HOST}:{port}" for target, port in ports.items()}
    run: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "db": str(args.db),
                           "before_ref": args.before, "before_commit": before_commit, "after_commit": after_commit,
                           "seconds": args.seconds, "machine": machine_info(), "load_before": list(os.getloadavg()),
                           "latency": {}}
    ready = "/-/versions.json"
    with server(serve_command(before_root, db, HOST, ports["before"]), bases["before"] + ready, "before",
                cwd=before_root, env={"PYTHONPATH": str(before_root)}), \
            server(serve_command(PROJECT_ROOT, db, HOST, ports["after"]), bases["after"] + ready, "after"), \
            server(bare_command(db, ports["bare"]), bases["bare"] + ready, "bare"):
        for concurrency in args.concurrency:
            run["latency"][str(concurrency)] = measure(bases, args.requests, concurrency, args.seconds)
    run["load_after"] = list(os.getloadavg())
    text = section(run)
    append_side_by_side(text)
    print(text)
    log("added a section to bench/side-by-side.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
