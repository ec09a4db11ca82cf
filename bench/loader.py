"""Loader benchmark: validate and build against `sqlite-utils insert --csv` (one call per table, no checks).

    .venv/bin/python -m bench.loader --root /work/benchdata/1000 --scale 1000   # one scale, JSON to stdout

`make bench` (bench/run.py) calls bench_scale for scales 1, 100 and 1000. The build and the baseline run one
after the other in the same run on the same files; wall time, CPU time (user + system, less sensitive to a busy
machine) and the child's own peak RSS (wait4) are recorded for each.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

from loaders.schema import Package
from loaders.site import DATABASE

from .common import BIN, SCRATCH, Run, run_measured

CLI = str(BIN / "prestatieafspraken")
# The goals of issue #16: validate + build no slower than the baseline, peak memory under 300 MB at every scale.
RATIO_GOAL = 1.0
PEAK_GOAL_MB = 300


def row_count(root: Path) -> tuple[int, int]:
    """(rows, bytes) of every CSV of the package under root."""
    package = Package.load(root)
    rows = size = 0
    csv.field_size_limit(sys.maxsize)
    for resource in package.resources:
        path = root / resource.path
        size += path.stat().st_size
        with path.open(encoding="utf-8", newline="") as f:
            rows += sum(1 for _ in csv.reader(f)) - 1
    return rows, size


def baseline(root: Path, db: Path, timeout: float, scratch: Path = SCRATCH) -> Run:
    """sqlite-utils insert --csv for every table; time summed, peak memory the largest."""
    db.unlink(missing_ok=True)
    package = Package.load(root)
    total = Run(["sqlite-utils insert --csv (per table)"], 0.0, 0.0, 0)
    for resource in package.load_order():
        left = timeout - total.seconds
        run = run_measured([str(BIN / "sqlite-utils"), "insert", str(db), resource.name,
                            str(root / resource.path), "--csv"], timeout=max(left, 1), scratch=scratch)
        total.seconds += run.seconds
        total.cpu_seconds += run.cpu_seconds
        total.max_rss_mb = max(total.max_rss_mb, run.max_rss_mb)
        if not run.ok:
            total.returncode = run.returncode
            total.stderr_tail = run.stderr_tail
            break
    return total


def describe(run: Run, rows: int) -> dict[str, Any]:
    return {
        "seconds": round(run.seconds, 2),
        "cpu_seconds": round(run.cpu_seconds, 2),
        "rows_per_s": round(rows / run.seconds) if run.seconds and run.ok else None,
        "peak_rss_mb": round(run.max_rss_mb, 1),
        "ok": run.ok,
        "timed_out": run.timed_out,
        **({"error": run.stderr_tail} if not run.ok else {}),
    }


def bench_scale(scale: int, root: Path, timeout: float, separate_validate: bool,
                scratch: Path = SCRATCH, db: Path | None = None) -> dict[str, Any]:
    """validate (optional), build (validate + load + indexes + FTS + zip) and the baseline on one package.
    The database goes to `db`, by default next to the package (where bench/serving.py serves it from)."""
    rows, size = row_count(root)
    db = db or root / f"{DATABASE}.db"
    result: dict[str, Any] = {"scale": scale, "rows": rows, "csv_mb": round(size / 1e6, 1),
                              "load_average_before": [round(x, 2) for x in os.getloadavg()]}

    def measured(command: list[str]) -> Run:
        return run_measured(command, timeout, scratch=scratch)

    if separate_validate:
        result["validate"] = describe(measured([CLI, "--root", str(root), "validate"]), rows)
    build = measured([CLI, "--root", str(root), "build", "--output", str(db)])
    result["build"] = describe(build, rows)
    result["db_ok"] = build.ok and db.exists()
    result["db"] = str(db)
    base_db = scratch / f"baseline-{scale}.db"
    base = baseline(root, base_db, timeout, scratch)
    base_db.unlink(missing_ok=True)
    result["baseline"] = describe(base, rows)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if build.ok and base.ok:
        result["ratio_build_to_baseline"] = round(build.seconds / base.seconds, 2)
        if base.cpu_seconds:
            result["ratio_cpu_build_to_baseline"] = round(build.cpu_seconds / base.cpu_seconds, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="a package folder: datapackage.yaml and csv/")
    parser.add_argument("--scale", type=int, required=True, help="the scale the package was generated at")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help="where the databases go (not into --root)")
    parser.add_argument("--validate", action="store_true", help="also time `validate` on its own")
    args = parser.parse_args(argv)
    scratch = args.scratch.resolve()
    result = bench_scale(args.scale, args.root.resolve(), args.timeout, args.validate, scratch,
                         scratch / f"build-{args.scale}" / f"{DATABASE}.db")
    print(json.dumps(result, indent=2))
    return 0 if result.get("db_ok") and result["baseline"]["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
