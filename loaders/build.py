"""Build the SQLite database from validated CSVs with sqlite-utils, atomically.

sqlite-utils writes the tables (types, NOT NULL, keys, enum CHECKs), the indexes, the full-text indexes,
the views and build_info, all from datapackage.yaml and loaders/views.yaml; the rows go in through one
prepared statement per table (see _load_table for why). The database is written to a temporary file next to
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
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import COLUMN_TYPE_MAPPING, Check, Database, quote_identifier

from . import __version__
from .aggregates import prepare_serving, row_counts
from .files import UnreadableInput, open_input
from .inspect import inspect_data, inspect_path, write_inspect
from .schema import Field, Package, Resource
from .values import INTEGER_FORM
from .views import create_views

# Table Schema type -> SQLite column type. A `number` is NUMERIC: SQLite keeps a whole number INTEGER and
# any other number REAL (exact, see _caster); sqlite-utils knows no NUMERIC, so it is named to it here.
COLUMN_TYPE_MAPPING.setdefault("NUMERIC", "NUMERIC")
SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}
BATCH = 5_000
# Diacritics folded so that "geinformeerd" finds "geïnformeerd".
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


def _enum_check(field: Field) -> Check:
    allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in field.enum)
    return Check(check=f"{quote_identifier(field.name)} IN ({allowed})", column=field.name)


def create_table_sql(db: Database, resource: Resource) -> str:
    """The CREATE TABLE sqlite-utils writes for a resource: types, NOT NULL, keys and the enum CHECKs.

    The CHECKs go through create_table_sql's `_checks` (sqlite-utils 4 has no public create_table argument for
    them); tests/test_build_content.py fails if an enum is no longer enforced."""
    pk: Any = resource.primary_key[0] if len(resource.primary_key) == 1 else tuple(resource.primary_key)
    foreign_keys = [
        (fk.fields[0], fk.resource, fk.reference_fields[0]) if len(fk.fields) == 1
        else (tuple(fk.fields), fk.resource, tuple(fk.reference_fields))
        for fk in resource.foreign_keys
    ]
    return db.create_table_sql(
        resource.name,
        {f.name: SQL_TYPES.get(f.type, "TEXT") for f in resource.fields},
        pk=pk or None,
        foreign_keys=foreign_keys,
        not_null={f.name for f in resource.fields if f.required},
        _checks=[_enum_check(f) for f in resource.fields if f.enum],
    )


def _caster(field: Field) -> Callable[[str], Any]:
    if field.type == "integer":
        return lambda v: int(v) if v != "" else None
    if field.type == "number":
        def number(v: str) -> Any:
            if v == "":
                return None
            # validate.py has made sure the value is stored exactly: a whole number as INTEGER
            # (float() would round one above 2**53), anything else as a finite REAL.
            return int(v) if INTEGER_FORM.fullmatch(v) else float(v)
        return number
    if field.type == "boolean":
        trues = set(field.true_values)
        return lambda v: (1 if v in trues else 0) if v != "" else None
    return lambda v: v if v != "" else None


def _records(path: Path, resource: Resource, root: Path | None = None) -> Iterator[list[Any]]:
    """The CSV's records with integer, number and boolean cells cast; text cells as they are ("" for empty)."""
    typed = [(i, _caster(f)) for i, f in enumerate(resource.fields) if f.type in ("integer", "number", "boolean")]
    try:
        with open_input(path, root) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for record in reader:
                for i, cast in typed:
                    record[i] = cast(record[i])
                yield record
    except UnreadableInput as error:
        raise UnreadableInput(f"{resource.path}: {error}") from None


def read_rows(path: Path, resource: Resource, root: Path | None = None) -> Iterator[tuple[Any, ...]]:
    """Each row as it is stored: cells cast by type, an empty cell None."""
    for record in _records(path, resource, root):
        yield tuple(None if value == "" else value for value in record)


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


def _load_table(db: Database, package: Package, resource: Resource,
                progress: Callable[[str], None]) -> int:
    db.execute(create_table_sql(db, resource))
    # Home-made on purpose: sqlite-utils' insert_all checks every value for JSON conversion, which made the
    # build 1.5x slower at bench scale 100; the values are typed scalars already (_caster), so the rows go
    # in through one prepared statement on sqlite-utils' connection.
    # An empty text cell becomes NULL in SQLite (NULLIF), not in a Python call per cell.
    values = ", ".join("?" if f.type in ("integer", "number", "boolean") else "NULLIF(?, '')" for f in resource.fields)
    sql = f"INSERT INTO {quote_identifier(resource.name)} VALUES ({values})"
    count = 0
    started = time.monotonic()
    batch: list[list[Any]] = []
    for row in _records(package.root / resource.path, resource, package.root):
        batch.append(row)
        if len(batch) >= BATCH:
            db.conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
            if time.monotonic() - started > 2:
                progress(f"  {resource.name}: {count:,} rows …")
                started = time.monotonic()  # at most one progress line every 2 seconds
    db.conn.executemany(sql, batch)
    return count + len(batch)


def sort_columns(resource: Resource) -> list[str]:
    """The columns a table page may sort on and filter by: foreign keys, facets and the label column, each
    indexed (the primary key has its own)."""
    columns: list[str] = []
    for fk in resource.foreign_keys:
        if list(fk.fields) != list(resource.primary_key[: len(fk.fields)]):
            columns.append(fk.fields[0])
    columns += [f.name for f in resource.fields if f.facet]
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


def build(package: Package, target: Path, progress: Callable[[str], None] = print) -> dict[str, int]:
    """Write the database to `target`; the caller has validated the package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o644)
    counts: dict[str, int] = {}
    try:
        # Autocommit connection; the rows go in as one transaction in which foreign keys are deferred
        # (a partner's successor may come later in the file) and checked when it commits.
        conn = sqlite3.connect(tmp, isolation_level=None)
        db = sqlite_utils.Database(conn)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA foreign_keys = ON")
            with db.atomic():
                db.execute("PRAGMA defer_foreign_keys = ON")
                for resource in package.load_order():
                    counts[resource.name] = _load_table(db, package, resource, progress)
                    progress(f"{resource.name}: {counts[resource.name]:,} rows")
            with db.atomic():
                for resource in package.resources:
                    _indexes(db, resource)
            for resource in package.resources:
                _fts(db, resource)  # sqlite-utils runs it as a script, in a transaction of its own
            create_views(db, package)
            with db.atomic():
                _build_info(db, package, counts)
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign key check failed after load: {broken[:5]}")
            prepare_serving(db, package, progress)
            db.analyze()
            all_counts = row_counts(db)
            version = db.execute("SELECT value FROM build_info WHERE key = 'data_version'").fetchone()[0]
        finally:
            conn.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        write_inspect(inspect_path(target), inspect_data(target, all_counts, version))
    finally:
        tmp.unlink(missing_ok=True)
    return counts
