"""`prestatieafspraken build`, today's tree against an earlier one from git, same data, same run, interleaved.

    .venv/bin/python -m bench.build_compare --scale 100    # `make bench-build`; writes bench/results.md
    .venv/bin/python -m bench.build_compare --scale 100 --against main --with-baseline   # + sqlite-utils per round

The earlier tree is `git archive <rev>` unpacked into a temporary directory. Each round runs the `build` command of
both trees (`python -m loaders --root <data> build --output <tmp>`, the tree's own code on PYTHONPATH) in a child
process, alternating old/new so that load on the shared machine hits both alike. The command is compared whole,
because that is what a maintainer waits for and because the trees split the work differently: the hand-written
loader validated the files first (frictionless) and then loaded them; today's checks every cell while it loads, and
also writes the site's metadata, inspect data and build-time tables. The median of the rounds is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from loaders.schema import PROJECT_ROOT
from loaders.site import DATABASE

from .common import BENCH_DIR, Run, run_measured
from .loader import baseline

# The tree's CLI, checked to be imported from that tree (not from the installed package).
BUILD = ("import sys, runpy, loaders; assert loaders.__file__.startswith(sys.argv.pop(1)), loaders.__file__; "
         "sys.argv[0] = 'prestatieafspraken'; runpy.run_module('loaders', run_name='__main__')")


def unpack_tree(rev: str, into: Path) -> str:
    """The project's files at `rev` under `into` (its data aside); returns the full commit hash."""
    commit = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", rev], capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", commit, ":!csv"],
                             capture_output=True, check=True).stdout
    archive_path = into / "loaders.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    archive_path.unlink()
    return commit


def build_once(code_dir: Path, root: Path, target: Path, timeout: float, scratch: Path) -> Run:
    """One build into `target`'s own folder, which is emptied after (the zip and site files land beside it)."""
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    env = {"PYTHONPATH": str(code_dir), "SOURCE_DATE_EPOCH": "0"}
    command = [sys.executable, "-c", BUILD, str(code_dir), "--root", str(root), "build", "--output", str(target)]
    run = run_measured(command, timeout, cwd=code_dir, env=env, scratch=scratch)
    shutil.rmtree(target.parent)
    return run


def compare(root: Path, against: str, rounds: int = 3, timeout: float = 600, with_baseline: bool = False,
            scratch_parent: Path | None = None) -> dict[str, Any]:
    """Each round: the old tree's build, this tree's build and, `with_baseline`, `sqlite-utils insert --csv` of
    the same files (bench/loader.py), one after the other, so that the machine's load hits all alike."""
    load_before = os.getloadavg()
    labels = ["old", "new", *(["baseline"] if with_baseline else [])]
    with tempfile.TemporaryDirectory(prefix="build-compare-", dir=scratch_parent) as tmp:
        scratch = Path(tmp)
        old_dir = scratch / "old"
        old_dir.mkdir()
        commit = unpack_tree(against, old_dir)
        times: dict[str, list[float]] = {label: [] for label in labels}
        cpu: dict[str, list[float]] = {label: [] for label in labels}
        peaks: dict[str, list[float]] = {label: [] for label in labels}
        for _ in range(rounds):
            for label in labels:
                if label == "baseline":
                    run = baseline(root, scratch / "baseline.db", timeout, scratch)
                    (scratch / "baseline.db").unlink(missing_ok=True)
                else:
                    code = old_dir if label == "old" else PROJECT_ROOT
                    run = build_once(code, root, scratch / label / "build" / f"{DATABASE}.db", timeout, scratch)
                if not run.ok:
                    raise RuntimeError(f"{label} build failed: {run.stderr_tail}")
                times[label].append(round(run.seconds, 2))
                cpu[label].append(round(run.cpu_seconds, 2))
                peaks[label].append(round(run.max_rss_mb, 1))
    median = {label: statistics.median(times[label]) for label in labels}
    median_cpu = {label: statistics.median(cpu[label]) for label in labels}
    result = {"against": commit[:12], "rounds": rounds, "seconds": times, "cpu_seconds": cpu, "peak_rss_mb": peaks,
              "median_old_s": median["old"], "median_new_s": median["new"],
              "ratio_new_to_old": round(median["new"] / median["old"], 2),
              "median_old_cpu_s": median_cpu["old"], "median_new_cpu_s": median_cpu["new"],
              "ratio_cpu_new_to_old": round(median_cpu["new"] / median_cpu["old"], 2),
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    if with_baseline:
        result.update({
            "median_baseline_s": median["baseline"], "median_baseline_cpu_s": median_cpu["baseline"],
            **{f"ratio_cpu_{label}_to_baseline": round(median_cpu[label] / median_cpu["baseline"], 2)
               for label in ("old", "new")},
            **{f"ratio_{label}_to_baseline": round(median[label] / median["baseline"], 2) for label in ("old", "new")}})
    return result


def main(argv: list[str] | None = None) -> int:
    from . import generate
    from .run import BUILD_BASELINE, ensure_data, render

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--against", default=BUILD_BASELINE,
                        help="the git revision whose loader is the baseline (default: bench/run.py BUILD_BASELINE)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-baseline", action="store_true",
                        help="also `sqlite-utils insert --csv` in every round; kept apart, per scale, in the results")
    parser.add_argument("--root", type=Path, help="a generated package to use (default: bench/data/<scale>)")
    parser.add_argument("--scratch", type=Path, help="where the databases are written (default: the temp folder)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per build")
    args = parser.parse_args(argv)
    if args.root:
        root = args.root.resolve()
    else:
        root, _ = ensure_data(args.scale)
        assert root == generate.DATA_DIR / str(args.scale)
    date = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    result = {"scale": args.scale, "date": date, **compare(root, args.against, args.rounds, args.timeout,
                                                           args.with_baseline, args.scratch)}
    print(json.dumps(result), file=sys.stderr)
    results_path = BENCH_DIR / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8"))
    if args.with_baseline:
        results.setdefault("build_vs_baseline", {})[str(args.scale)] = result
    else:
        results["build_compare"] = result
    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (BENCH_DIR / "results.md").write_text(render(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
