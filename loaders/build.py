"""Build the SQLite database from validated CSVs with sqlite-utils, atomically.

sqlite-utils writes the tables (types, NOT NULL, keys, enum CHECKs; loaders/tables.py), the indexes, the
full-text indexes, the views and build_info, all from datapackage.yaml and loaders/views.yaml, then what the
site reads instead of computing per request (loaders/aggregates.py: aggregates, facet counts, site search). The rows are
checked as they go in, one streaming pass per file (loaders/load.py): they go in through one prepared
statement per table, not sqlite-utils' insert_all, which checks every value for JSON conversion and made the
build 1.5x slower at bench scale 100. The database is written to a temporary file next to
the target and renamed over it only when complete, so a failed build leaves the previous database untouched.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import Database

from . import __version__
from .aggregates import prepare_serving
from .files import UnreadableInput, open_input
from .problems import ValidationFailed
from .rowcheck import caster
from .schema import Package, Resource
from .tables import SQL_TYPES, create_table_sql  # noqa: F401 - create_table_sql: where tests and bench/ find it
from .validate import check_and_load, prepare, sorting_in_threads
from .views import create_views

# Diacritics folded so that "geinformeerd" finds "geïnformeerd".
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


def read_rows(path: Path, resource: Resource, root: Path | None = None) -> Iterator[tuple[Any, ...]]:
    """Each row of a valid file as it is stored: cells cast by type, an empty cell None."""
    cast = caster(resource)
    try:
        with open_input(path, root) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for record in reader:
                yield tuple(None if value == "" else value for value in cast(record))
    except UnreadableInput as error:
        raise UnreadableInput(f"{resource.path}: {error}") from None


def data_version(package: Package) -> str:
    """A hash of the descriptor and every CSV: equal data gives an equal version."""
    digest = hashlib.sha256()
    for relative in ["datapackage.yaml", *(r.path for r in package.resources)]:
        path = package.root / relative
        digest.update(path.name.encode())
        try:
            with open_input(path, package.root) as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except UnreadableInput as error:
            raise UnreadableInput(f"{relative}: {error}") from None
    return digest.hexdigest()[:12]


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "csv",
                                "datapackage.yaml"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_time() -> str:
    # SOURCE_DATE_EPOCH makes the whole file reproducible when wanted.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).isoformat()


def sort_columns(resource: Resource) -> list[str]:
    """The columns a table page may sort on and filter by: foreign keys, facets, the label column and the
    fields marked `sortable: true` in datapackage.yaml, each indexed (the primary key has its own)."""
    columns: list[str] = []
    for fk in resource.foreign_keys:
        if list(fk.fields) != list(resource.primary_key[: len(fk.fields)]):
            columns.append(fk.fields[0])
    columns += [f.name for f in resource.fields if f.facet or f.sortable]
    if resource.label_column and [resource.label_column] != list(resource.primary_key):
        columns.append(resource.label_column)
    return list(dict.fromkeys(columns))


def _indexes(db: Database, resource: Resource) -> None:
    # Datasette sorts a table page by the column and then the primary key: with the key in the index, a sorted
    # page is read in order and stops after one page, instead of sorting every row with the same value.
    key = [] if [SQL_TYPES.get(f.type) for f in resource.fields if f.name in resource.primary_key] == ["INTEGER"] \
        else list(resource.primary_key)
    for column in sort_columns(resource):
        db.table(resource.name).create_index([column, *(k for k in key if k != column)],
                                             index_name=f"idx_{resource.name}_{column}")


def _fts(db: Database, resource: Resource) -> None:
    columns = [f.name for f in resource.fields if f.searchable]
    if columns:
        db.table(resource.name).enable_fts(columns, tokenize=FTS_TOKENIZER)


def _build_info(db: Database, package: Package, counts: dict[str, int]) -> None:
    info = {
        "data_version": data_version(package),
        "built_at": build_time(),
        "git_commit": git_commit(package.root),
        "loader_version": __version__,
        "package_version": str(package.raw.get("version", "")),
        **{f"rows.{name}": str(n) for name, n in counts.items()},
    }
    db.table("build_info").create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.table("build_info").insert_all([{"key": k, "value": v} for k, v in sorted(info.items())])


def _tables_and_indexes(db: Database) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') "
                                           "AND name NOT LIKE 'sqlite_%'").fetchall()}


def build(package: Package, target: Path, progress: Callable[[str], None] = print,
          before_replace: Callable[[], None] | None = None) -> dict[str, int]:
    """Check the package while loading it, and write the database to `target`; ValidationFailed with every
    problem (and nothing written) when the package is not valid. `before_replace` runs when the new database
    is complete, before it replaces the old one: what it writes is written only for a valid package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o644)
    counts: dict[str, int] = {}
    try:
        # Autocommit connection; the rows go in as one transaction, checked on the way (validate.py).
        conn = sqlite3.connect(tmp, isolation_level=None)
        db = sqlite_utils.Database(conn)
        try:
            prepare(db)
            with db.atomic():
                counts, problems = check_and_load(db, package, progress)
                if problems:
                    raise ValidationFailed(problems)
            with db.atomic(), sorting_in_threads(db):
                for resource in package.resources:
                    _indexes(db, resource)
            for resource in package.resources:
                _fts(db, resource)  # sqlite-utils runs it as a script, in a transaction of its own
            create_views(db, package)
            with db.atomic():
                _build_info(db, package, counts)
            # Statistics before the build-time tables are made: without them SQLite chose a plan for a view
            # (projects_overview, stored as agg_project_rows) that took 40 s at bench scale 1000 instead of 0.4 s.
            db.analyze()
            analysed = _tables_and_indexes(db)
            prepare_serving(db, package, progress)
            for name in _tables_and_indexes(db) - analysed:  # what prepare_serving made, in the same statistics
                db.analyze(name)
        finally:
            conn.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return counts
