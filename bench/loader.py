"""Loader benchmark: validate and build against `sqlite-utils insert --csv` (one call per table, no checks)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from loaders.schema import Package

from .common import BIN, SCRATCH, Run, run_measured

CLI = str(BIN / "prestatieafspraken")


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
    """sqlite-utils insert --csv for every table, in load order; time summed, peak memory the largest."""
    db.unlink(missing_ok=True)
    package = Package.load(root)
    total = Run(["sqlite-utils insert --csv (per table)"], 0.0, 0.0, 0)
    for resource in package.load_order():
        left = timeout - total.seconds
        run = run_measured([str(BIN / "sqlite-utils"), "insert", str(db), resource.name,
                            str(root / resource.path), "--csv"], timeout=max(left, 1), scratch=scratch)
        total.seconds += run.seconds
        total.max_rss_mb = max(total.max_rss_mb, run.max_rss_mb)
        if not run.ok:
            total.returncode = run.returncode
            total.stderr_tail = run.stderr_tail
            break
    return total


def describe(run: Run, rows: int) -> dict[str, Any]:
    return {
        "seconds": round(run.seconds, 2),
        "rows_per_s": round(rows / run.seconds) if run.seconds and run.ok else None,
        "peak_rss_mb": round(run.max_rss_mb, 1),
        "ok": run.ok,
        "timed_out": run.timed_out,
        **({"error": run.stderr_tail} if not run.ok else {}),
    }


def bench_scale(scale: int, root: Path, timeout: float, separate_validate: bool,
                prototype: bool = True, scratch: Path = SCRATCH) -> dict[str, Any]:
    rows, size = row_count(root)
    db = root / "prestatieafspraken.db"
    result: dict[str, Any] = {"scale": scale, "rows": rows, "csv_mb": round(size / 1e6, 1)}

    def measured(command: list[str]) -> Run:
        return run_measured(command, timeout, scratch=scratch)

    if separate_validate:
        result["validate"] = describe(measured([CLI, "--root", str(root), "validate"]), rows)
    build = measured([CLI, "--root", str(root), "build", "--output", str(db)])
    result["build"] = describe(build, rows)  # build = validate + load + indexes + FTS + zip
    result["baseline"] = describe(baseline(root, scratch / f"baseline-{scale}.db", timeout, scratch), rows)
    (scratch / f"baseline-{scale}.db").unlink(missing_ok=True)
    result["db_ok"] = build.ok and db.exists()
    if build.ok and result["baseline"]["ok"]:
        result["ratio_build_to_baseline"] = round(build.seconds / result["baseline"]["seconds"], 2)
    if not prototype:
        return result
    fast_db = scratch / f"fastcheck-{scale}.db"
    fast = measured([sys.executable, "-m", "bench.fastcheck", "--root", str(root), "build", "--output", str(fast_db)])
    fast_db.unlink(missing_ok=True)
    result["prototype_build"] = describe(fast, rows)
    if separate_validate:
        result["prototype_validate"] = describe(
            measured([sys.executable, "-m", "bench.fastcheck", "--root", str(root), "validate"]), rows)
    if fast.ok and result["baseline"]["ok"]:
        result["ratio_prototype_to_baseline"] = round(fast.seconds / result["baseline"]["seconds"], 2)
    return result
