"""Validate the package: every CSV against datapackage.yaml, every problem reported at once as file:line: column: text.

The rows are checked as they are loaded (loaders/load.py): structural checks per file (what kind of file,
encoding, delimiter, header, quoting), types and constraints per cell, primary and foreign keys by the database,
rows that refer to themselves in a cycle, provenance. Here are the checks of the package as a whole (column
labels, files nobody described), and `validate`, which loads into a temporary database and throws it away.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .load import Progress, load_rows
from .problems import Problem, shown
from .schema import DESCRIPTOR_NAME, Package

# SQLite's page cache for the load: keys go into their indexes in file order, not sorted; a larger cache
# saves rereading index pages, and stays far below the loader's memory goal (bench/results.md).
CACHE_KIB = 64 * 1024
SORT_THREADS = 4  # sorting threads at most, the build's own included


def validate(package: Package, progress: Progress | None = None) -> list[Problem]:
    """Every problem of the package, sorted; [] when it is valid. Writes nothing but a temporary file."""
    with tempfile.TemporaryDirectory(prefix="prestatieafspraken-validate-") as folder:
        conn = sqlite3.connect(Path(folder) / "check.db", isolation_level=None)
        try:
            db = sqlite_utils.Database(conn)
            prepare(db)
            with db.atomic():
                _counts, problems = check_and_load(db, package, progress)
        finally:
            conn.close()
    return problems


def prepare(db: sqlite_utils.Database) -> None:
    """A database file that is thrown away if anything fails needs no journal and no waiting for the disk;
    foreign keys are checked once after the load (load.py), not on every insert."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


@contextmanager
def sorting_in_threads(db: sqlite_utils.Database) -> Iterator[None]:
    """While the indexes are made after the load: SQLite sorts with a helper thread per further core (about the
    same CPU time, a third less waiting for an index of 2 million rows on 2 cores at bench scale 1000). Each
    sorting thread holds a buffer the size of the page cache, so the cache is shared out among them meanwhile
    (with 64 MB each a build at scale 1000 peaked at 328 MB; goal: under 300), and given back afterwards."""
    helpers = min(os.cpu_count() or 1, SORT_THREADS) - 1
    db.execute(f"PRAGMA threads = {helpers}")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB // (helpers + 1)}")
    try:
        yield
    finally:
        db.execute("PRAGMA threads = 0")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


def check_and_load(db: sqlite_utils.Database, package: Package,
                   progress: Progress | None = None) -> tuple[dict[str, int], list[Problem]]:
    """Load every table into `db` (in the caller's transaction) and return (rows per table, sorted problems)."""
    problems: list[Problem] = label_problems(package)
    problems.extend(_undescribed_files(package))
    counts, found = load_rows(db, package, progress)
    problems.extend(found)
    return counts, sorted(set(problems))


# A column heading, not a sentence: the description says the rest.
LABEL_MAX_LENGTH = 40


def label_problems(package: Package) -> list[Problem]:
    """Every field has a short Dutch label (Table Schema `title`), the heading the site shows for its column,
    and no two columns of one table share a heading."""
    problems = []
    for resource in package.resources:
        seen: dict[str, str] = {}
        for f in resource.fields:
            line = package.field_line(resource.name, f.name)
            where = f"{resource.name}.{f.name}"
            raw = f.raw.get("title")
            if not isinstance(raw, str) or not f.title:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, "has no title; add a short Dutch label "
                                        "(title: ...) that the site shows as the column's heading"))
            elif len(f.title) > LABEL_MAX_LENGTH:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, f"title '{shown(f.title)}' is {len(f.title)} "
                                        f"characters; a heading has at most {LABEL_MAX_LENGTH}: shorten it and "
                                        "leave the rest to the description"))
            elif f.title.casefold() in seen:
                problems.append(Problem(DESCRIPTOR_NAME, line, where, f"title '{shown(f.title)}' is also the title "
                                        f"of {seen[f.title.casefold()]}; give every column of a table its own "
                                        "heading"))
            if f.title:
                seen.setdefault(f.title.casefold(), f.name)
    return problems


def _undescribed_files(package: Package) -> list[Problem]:
    described = {str(Path(r.path)) for r in package.resources}
    folders = {Path(r.path).parent for r in package.resources}
    problems = []
    for folder in sorted(folders):
        for path in sorted((package.root / folder).glob("*")):
            relative = str(path.relative_to(package.root))
            if path.is_file() and relative not in described:
                problems.append(Problem(relative, 1, "(file)", "file is not described in datapackage.yaml; "
                                        "add a resource for it there, or move the file out of this folder"))
    return problems
