"""First renders of every chart image, this tree against another (say main), side by side in one run.

`python -m bench.charts_compare --baseline-tree <dir> --baseline-db <db> --db <db> [--rounds N]`: each round starts
both sites fresh (`prestatieafspraken serve`, each tree on the database its own loader built), then asks every
chart's PNG of both, one after the other (which goes first alternates per chart and round, so machine noise hits
both alike): the first request draws it, the second must come from the cache. Recorded per request: wall time, CPU
time of the server and its render worker (less sensitive to a busy machine than wall time), the cache header, size
and pixel size of the PNG. The baseline tree can be a `git archive` of main: it runs from its own folder with this
tree's Python environment. Prints Markdown for bench/side-by-side.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from loaders.schema import PROJECT_ROOT
from loaders.yaml_files import load_yaml

from .common import HOST, SCRATCH, free_port, stop, wait_ready

TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def slugs(tree: Path) -> list[str]:
    return [chart["slug"] for chart in load_yaml((tree / "charts.yml").read_text(encoding="utf-8"))["charts"]]


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process and all its descendants that are alive (the render worker)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return total


@contextlib.contextmanager
def site(tree: Path, db: Path, name: str) -> Iterator[tuple[str, int]]:
    """`prestatieafspraken serve` of `tree` on `db`, run from the tree's folder so that it imports its own code."""
    port = free_port()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "loaders", "--root", str(tree), "serve", "--db", str(db),
               "--host", HOST, "--port", str(port)]
    with (SCRATCH / f"charts-{name}.log").open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tree)
        try:
            base = f"http://{HOST}:{port}"
            wait_ready(base + "/-/versions.json")
            yield base, proc.pid
        finally:
            stop(proc)


def first_render(client: httpx.Client, base: str, pid: int, slug: str) -> dict[str, Any]:
    cpu, started = cpu_ms(pid), time.perf_counter()
    try:
        response = client.get(f"{base}/-/charts/{slug}.png", timeout=TIMEOUT_S)
    except httpx.TimeoutException:
        return {"timeout_s": TIMEOUT_S}
    result: dict[str, Any] = {"ms": round((time.perf_counter() - started) * 1000, 1),
                              "cpu_ms": round(cpu_ms(pid) - cpu), "status": response.status_code,
                              "cache": response.headers.get("x-chart-cache"), "bytes": len(response.content)}
    if response.content.startswith(b"\x89PNG"):
        result["pixels"] = list(struct.unpack(">II", response.content[16:24]))
    started = time.perf_counter()
    again = client.get(f"{base}/-/charts/{slug}.png", timeout=TIMEOUT_S)
    result["again_ms"] = round((time.perf_counter() - started) * 1000, 1)
    result["again_cache"] = again.headers.get("x-chart-cache")
    return result


def compare(baseline_tree: Path, baseline_db: Path, db: Path, rounds: int) -> dict[str, Any]:
    names = list(dict.fromkeys(slugs(PROJECT_ROOT) + slugs(baseline_tree)))
    out: dict[str, Any] = {"load_average_before": list(os.getloadavg()), "rounds": []}
    for number in range(rounds):
        with site(baseline_tree, baseline_db, "baseline") as (base_url, base_pid), \
                site(PROJECT_ROOT, db, "this") as (this_url, this_pid), httpx.Client() as client:
            # A first request of each, so that starting the render worker is no chart's cost.
            for url in (base_url, this_url):
                client.get(f"{url}/-/charts", timeout=TIMEOUT_S)
            measured: dict[str, dict[str, Any]] = {}
            for index, slug in enumerate(names):
                order = [("baseline", base_url, base_pid), ("this", this_url, this_pid)]
                if (index + number) % 2:
                    order.reverse()
                measured[slug] = {who: first_render(client, url, pid, slug) for who, url, pid in order}
            out["rounds"].append(measured)
    out["load_average_after"] = list(os.getloadavg())
    return out


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def markdown(result: dict[str, Any]) -> str:
    lines = ["| chart | baseline ms | this ms | baseline CPU ms | this CPU ms | baseline px, KB | this px, KB | "
             "cached (this) |", "|---|---:|---:|---:|---:|---|---|---|"]
    slow = []
    for slug in result["rounds"][0]:
        cells = []
        for key in ("ms", "cpu_ms"):
            for who in ("baseline", "this"):
                values = [r[slug][who].get(key) for r in result["rounds"]]
                cells.append("timeout" if None in values else f"{median(values):,.0f}")
        for who in ("baseline", "this"):
            last = result["rounds"][-1][slug][who]
            size = "×".join(map(str, last.get("pixels", []))) or str(last.get("status", "timeout"))
            cells.append(f"{size}, {last.get('bytes', 0) // 1024:,}")
        this = result["rounds"][-1][slug]["this"]
        cells.append(f"{this.get('again_cache')}, {this.get('again_ms')} ms")
        worst = max((r[slug]["this"].get("ms", 1e9) for r in result["rounds"]), default=0)
        if worst >= 1000:
            slow.append(f"{slug} ({worst / 1000:.1f} s)")
        lines.append(f"| {slug} | " + " | ".join(cells) + " |")
    rounds = len(result["rounds"])
    lines += ["", f"Median of {rounds} round(s); load average before {result['load_average_before']}, after "
              f"{result['load_average_after']}.", "",
              "- Goal: every chart's first render under 1 s (this tree, every round): "
              + ("**met**." if not slow else f"**missed** — {', '.join(slow)}.")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", type=Path, required=True)
    parser.add_argument("--baseline-db", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    result = compare(args.baseline_tree.resolve(), args.baseline_db.resolve(), args.db.resolve(), args.rounds)
    if args.json:
        import json

        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
