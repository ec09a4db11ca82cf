"""Every saved question over combinations of parameter values: `python -m bench.question_sweep <db> [limit_s]`.

The serving bench asks each question with typical values and with every parameter empty. A question's plan is the
same for every value (SQLite plans it once), but what it reads is not: at scale 1000, four questions that had an
index for every step read half a million rows for some values and failed after the 1 s limit (bench/README.md,
stop 14). This runs each question's SQL through sqlite3, with the site's SQL functions, for every combination of:
empty, the serving bench's typical value (for a municipality, the commonest in the data), a one-letter word that
matches almost everything, and a word that matches nothing. It reads the rows a page shows (max_returned_rows + 1),
stops a statement at `limit_s` (default 2), and prints the slowest combinations and every one over the site's
time limit, as Markdown.
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
import time
from pathlib import Path

from bench.plans import connect
from bench.serving import PARAMS, saved_queries
from loaders.queries import page_rows
from loaders.schema import PROJECT_ROOT
from loaders.site import settings

EVERYTHING, NOTHING = "a", "qqxq"
SHOWN = 15


def values(name: str, conn: sqlite3.Connection) -> list[str]:
    typical = PARAMS.get(name, "")
    if name == "municipality":  # the serving bench leaves it empty; the generated data's commonest one
        typical = conn.execute("select municipality from documents where municipality is not null "
                               "group by municipality order by count(*) desc limit 1").fetchone()[0]
    return list(dict.fromkeys(["", typical, EVERYTHING, NOTHING]))


def sweep(db: Path, limit_s: float) -> list[tuple[float, str, dict[str, str], int | None]]:
    """(seconds or inf when stopped, question, parameters, rows read or None) for every combination."""
    rows_asked = page_rows()
    conn = connect(db)
    out = []
    for name, query in saved_queries().items():
        names = query.get("params", [])
        for combination in itertools.product(*[values(p, conn) for p in names]):
            params = dict(zip(names, combination, strict=True))
            deadline = time.monotonic() + limit_s
            conn.set_progress_handler(lambda end=deadline: int(time.monotonic() > end), 10_000)
            started = time.monotonic()
            try:
                rows: int | None = len(conn.execute(query["sql"], params).fetchmany(rows_asked))
                seconds = time.monotonic() - started
            except sqlite3.OperationalError as error:
                if "interrupted" not in str(error):  # a question that fails is not slow: say which, and how
                    raise RuntimeError(f"{name} with {params}: {error}") from error
                rows, seconds = None, float("inf")
            out.append((seconds, name, params, rows))
    conn.set_progress_handler(None, 0)
    return sorted(out, key=lambda r: -r[0])


def report(results: list[tuple[float, str, dict[str, str], int | None]], limit_s: float) -> str:
    limit_ms = int(settings(PROJECT_ROOT)["sql_time_limit_ms"])
    over = [r for r in results if r[0] * 1000 > limit_ms]
    lines = [f"{len(results)} combinations of {len({r[1] for r in results})} questions; {len(over)} over the "
             f"site's time limit of {limit_ms} ms.", "", "| question | parameters | rows | ms |", "|---|---|---:|---:|"]
    for seconds, name, params, rows in results[:max(SHOWN, len(over))]:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if v) or "(all empty)"
        ms = f"> {limit_s * 1000:,.0f}" if seconds == float("inf") else f"{seconds * 1000:,.1f}"
        lines.append(f"| {name} | {shown} | {'' if rows is None else rows} | {ms} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__)
        return 2
    limit_s = float(args[1]) if len(args) > 1 else 2.0
    print(report(sweep(Path(args[0]), limit_s), limit_s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
