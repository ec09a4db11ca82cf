"""Where a chart's first render goes: its rows, laying it out (SVG), and drawing the PNG, per chart, on one database.

`python -m bench.chart_split <db>` prints Markdown: per chart the rows it draws; choosing them with its query over
every row (what each first render did before the build stored them, loaders/chart_rows.py) and reading the stored
row instead; vl-convert laying out the SVG; the PNG drawn from that SVG (what the site does) and drawn by
vl-convert from the spec, laying it out again (what it did before); the SVG and PNG size and the scale between
them. Wall and CPU milliseconds of this process (vl-convert runs in it), best of `--repeat`. Read-only.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vl_convert

from loaders.chart_render import draw_png, draw_svg, warm_up
from loaders.chart_rows import STORED_SQL, TABLE, digest, top_sql
from loaders.queries import load_queries
from plugins.charts import PNG_PPI, BoundChart, charts, png_scale, svg_size


def cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def timed(repeat: int, work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """`work(*args, **kwargs)`, and the best wall and CPU milliseconds of `repeat` runs."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), cpu_ms()
        result = work(*args, **kwargs)
        best_wall, best_cpu = min(best_wall, (time.perf_counter() - wall) * 1000), min(best_cpu, cpu_ms() - cpu)
    return result, best_wall, best_cpu


def all_rows(conn: sqlite3.Connection, sql: str, params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]


def split(db: Path, repeat: int) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    stored = conn.execute("select 1 from sqlite_master where name = ?", [TABLE]).fetchone() is not None
    queries = load_queries()
    warm_up()
    out = []
    for slug, chart in charts().items():
        query = queries[chart["query"]]
        params = {name: "" for name in query.get("params", [])}
        rows, query_ms, query_cpu = timed(repeat, all_rows, conn, top_sql(chart, query["sql"]), params)
        lookup = None
        if stored:
            lookup = timed(repeat, all_rows, conn, STORED_SQL, [slug, digest(chart, query["sql"])])[1]
        sources = list(dict.fromkeys((r.get("source_publisher") or "", r.get("source_url") or "") for r in rows
                                     if r.get("source_publisher") or r.get("source_url")))
        spec = BoundChart(chart, rows, sources, "v", "2026-01-01").spec()
        svg, svg_ms, svg_cpu = timed(repeat, draw_svg, spec)
        width, height = svg_size(svg)
        scale = png_scale(width, None)
        png, png_ms, png_cpu = timed(repeat, draw_png, svg, scale * 72 / PNG_PPI, PNG_PPI)
        _, relayout_ms, relayout_cpu = timed(repeat, vl_convert.vegalite_to_png, spec, scale=scale * 72 / PNG_PPI,
                                             ppi=PNG_PPI, allowed_base_urls=[])
        out.append({"chart": slug, "rows": len(rows), "query_ms": query_ms, "query_cpu": query_cpu,
                    "lookup_ms": lookup, "svg_ms": svg_ms, "svg_cpu": svg_cpu, "svg_px": [width, height],
                    "scale": scale, "png_ms": png_ms, "png_cpu": png_cpu, "relayout_ms": relayout_ms,
                    "relayout_cpu": relayout_cpu, "png_px": list(struct.unpack(">II", png[16:24])),
                    "png_kb": len(png) // 1024})
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| chart | rows | query over all rows ms (CPU) | stored rows ms | SVG layout ms (CPU) | SVG px | scale | "
             "PNG from SVG ms (CPU) | PNG px, KB | PNG laid out again ms (CPU) |",
             "|---|---:|---:|---:|---:|---|---:|---:|---|---:|"]
    for r in rows:
        lookup = "–" if r["lookup_ms"] is None else f"{r['lookup_ms']:.1f}"
        lines.append(
            f"| {r['chart']} | {r['rows']} | {r['query_ms']:,.0f} ({r['query_cpu']:,.0f}) | {lookup} | "
            f"{r['svg_ms']:,.0f} ({r['svg_cpu']:,.0f}) | {r['svg_px'][0]}×{r['svg_px'][1]} | {r['scale']} | "
            f"{r['png_ms']:,.0f} ({r['png_cpu']:,.0f}) | {r['png_px'][0]}×{r['png_px'][1]}, {r['png_kb']:,} | "
            f"{r['relayout_ms']:,.0f} ({r['relayout_cpu']:,.0f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(markdown(split(args.db, args.repeat)))


if __name__ == "__main__":
    main()
