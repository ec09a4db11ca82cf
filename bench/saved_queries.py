"""The saved queries and charts alone, side by side (`python -m bench.saved_queries <db> [seconds]`).

bench/serving.py's own measurements on one database, for the saved queries with their empty parameters and a few
typical ones, at 1 and at 8 connections: ours (computed in full: `Cache-Control: no-cache`), bare Datasette with
the same settings running the same SQL as `?sql=`, and sqlite3 (the floor); then each chart's first render on the
freshly started server. Prints the tables as Markdown (for bench/results.md) and writes the figures as JSON to
bench/scratch/saved_queries.json. Takes about 5 minutes at scale 1000 with 1 s per request and target.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from bench import serving
from bench.common import HOST, SCRATCH, bare_command, free_port, our_site_command, server

# Typical parameters besides the empty ones (which match everything).
TYPICAL: dict[str, list[dict[str, str]]] = {
    "figures": [{"indicator": "woningen"}, {"document": "hh-pa-2024"}, {"theme": "betaal"}, {"area": "Uithuizen"}],
    "agreements_by_document": [{"document": "hh-pa-2024"}, {"document": "2024"}],
    "agreements_per_theme_kind": [{"municipality": "Het Hogeland"}],
    "missing_per_municipality": [{"municipality": "Het Hogeland"}],
    "corporations_over_time": [{"municipality": "Het Hogeland"}],
    "top3_2024_per_municipality": [{"municipality": "Het Hogeland"}],
}


def requests(names: set[str] | None = None) -> list[dict[str, Any]]:
    """One request per saved query and parameter set, in bench/serving.py's shape."""
    out = []
    for name, query in serving.saved_queries().items():
        if names and name not in names:
            continue
        for chosen in [{}, *TYPICAL.get(name, [])]:
            params = {p: chosen.get(p, "") for p in query.get("params", [])}
            qs = urllib.parse.urlencode(params)
            label = f"{name}" + (f" ({', '.join(f'{k}={v}' for k, v in chosen.items())})" if chosen else "")
            ours = f"/{serving.DB}/{name}" + (f"?{qs}" if qs else "")
            out.append({"name": label, "kind": "saved query", "ours": ours,
                        "bare": f"/{serving.DB}?" + urllib.parse.urlencode({"sql": query["sql"], **params}),
                        "floor": [(query["sql"], params, serving.MAX_ROWS + 1)]})
    return out


def measure(db: Path, seconds: float, names: set[str] | None = None) -> dict[str, Any]:
    serving.requests_to_measure = lambda: requests(names)  # latency_table measures these

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    ours_port, bare_port = free_port(), free_port()
    ours, bare = f"http://{HOST}:{ours_port}", f"http://{HOST}:{bare_port}"
    result: dict[str, Any] = {"load_average_before": list(os.getloadavg())}
    with server(our_site_command(db, ours_port), ours + "/-/versions.json", "ours") as ours_proc, \
            server(bare_command(db, bare_port), bare + "/-/versions.json", "bare") as bare_proc:
        servers = (ours_proc.pid, bare_proc.pid)
        result["charts"] = serving.chart_cache(ours)
        result["latency_c1"] = serving.latency_table(db, ours, bare, 1, seconds, log, servers=servers)
        result["latency_c8"] = serving.latency_table(db, ours, bare, 8, seconds, log, servers=servers)
        result["load_average_after"] = list(os.getloadavg())
    return result


def _ms(measured: dict[str, Any] | None) -> str:
    """p50 / p95; a dash where no request finished within the window."""
    m = measured or {}
    return " / ".join(f"{m[k]:,.1f}" if m.get(k) else "—" for k in ("p50_ms", "p95_ms"))


def markdown(result: dict[str, Any]) -> str:
    c8 = {row["name"]: row for row in result["latency_c8"]}
    lines = ["| saved query | 1 conn.: ours p50 / p95 | bare | sqlite3 | ours/bare p50 | 8 conn.: ours p50 / p95 "
             "| bare | sqlite3 | ours/bare p50 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["latency_c1"]:
        other = c8.get(row["name"], {})
        lines.append(f"| {row['name']} | {_ms(row['ours'])} | {_ms(row['bare'])} | {_ms(row['sqlite3'])} | "
                     f"{row.get('ratio_p50_ours_to_bare', '—')} | {_ms(other.get('ours'))} | "
                     f"{_ms(other.get('bare'))} | {_ms(other.get('sqlite3'))} | "
                     f"{other.get('ratio_p50_ours_to_bare', '—')} |")
    lines += ["", "| chart | first render ms | then (from cache) ms | status | KB | If-None-Match |",
              "|---|---:|---|---:|---:|---:|"]
    for slug, chart in result["charts"].get("charts", {}).items():
        ms = chart.get("ms") or []
        first = (f"{ms[0]:,.0f}" if ms else "—") + (f" (over {chart['timeout_s']} s)" if chart.get("timeout_s") else "")
        size = round(chart["bytes"] / 1024) if chart.get("bytes") else "—"
        lines.append(f"| {slug} | {first} | {', '.join(f'{m:,.1f}' for m in ms[1:])} | {chart.get('status', '—')} | "
                     f"{size} | {chart.get('revalidate_status', '—')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    db = Path(argv[0]).resolve()
    result = measure(db, float(argv[1]) if len(argv) > 1 else 1.0)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    (SCRATCH / "saved_queries.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(markdown(result))
    print(f"Load average before: {result['load_average_before']}; after: {result['load_average_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
