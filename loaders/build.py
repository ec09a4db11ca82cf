"""Build the SQLite database from validated CSVs, atomically.

The database is written to a temporary file next to the target and renamed over
it only when complete, so a failed build leaves the previous database untouched.
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

from . import __version__
from .files import UnreadableInput, open_input
from .schema import Field, Package, Resource
from .values import INTEGER_FORM
from .views import create_views

SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}
BATCH = 5_000
# Diacritics folded so that "geinformeerd" finds "geïnformeerd".
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_sql(field: Field) -> str:
    parts = [quote(field.name), SQL_TYPES.get(field.type, "TEXT")]
    if field.required:
        parts.append("NOT NULL")
    if field.enum:
        allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in field.enum)
        parts.append(f"CHECK ({quote(field.name)} IN ({allowed}))")
    return " ".join(parts)


def create_table_sql(resource: Resource) -> str:
    lines = [_column_sql(f) for f in resource.fields]
    if resource.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(quote(c) for c in resource.primary_key)})")
    for fk in resource.foreign_keys:
        lines.append(
            f"FOREIGN KEY ({', '.join(quote(c) for c in fk.fields)}) REFERENCES {quote(fk.resource)} "
            f"({', '.join(quote(c) for c in fk.reference_fields)})"
        )
    return f"CREATE TABLE {quote(resource.name)} (\n  " + ",\n  ".join(lines) + "\n)"


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


def read_rows(path: Path, resource: Resource, root: Path | None = None) -> Iterator[tuple[Any, ...]]:
    casters = [_caster(f) for f in resource.fields]
    try:
        with open_input(path, root) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for record in reader:
                yield tuple(cast(value) for cast, value in zip(casters, record, strict=False))
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


def _load_table(conn: sqlite3.Connection, package: Package, resource: Resource,
                progress: Callable[[str], None]) -> int:
    conn.execute(create_table_sql(resource))
    placeholders = ", ".join("?" for _ in resource.fields)
    sql = f"INSERT INTO {quote(resource.name)} VALUES ({placeholders})"
    count = 0
    started = time.monotonic()
    batch: list[tuple[Any, ...]] = []
    for row in read_rows(package.root / resource.path, resource, package.root):
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
            if time.monotonic() - started > 2:
                progress(f"  {resource.name}: {count:,} rows …")
                started = time.monotonic()  # at most one progress line every 2 seconds
    conn.executemany(sql, batch)
    return count + len(batch)


def _indexes(conn: sqlite3.Connection, resource: Resource) -> None:
    columns: list[str] = []
    for fk in resource.foreign_keys:
        if list(fk.fields) != list(resource.primary_key[: len(fk.fields)]):
            columns.append(fk.fields[0])
    columns += [f.name for f in resource.fields if f.facet]
    for column in dict.fromkeys(columns):
        conn.execute(f"CREATE INDEX {quote(f'idx_{resource.name}_{column}')} "
                     f"ON {quote(resource.name)} ({quote(column)})")


def _fts(conn: sqlite3.Connection, resource: Resource) -> None:
    columns = [f.name for f in resource.fields if f.searchable]
    if not columns:
        return
    name = f"{resource.name}_fts"
    conn.execute(
        f"CREATE VIRTUAL TABLE {quote(name)} USING fts5({', '.join(quote(c) for c in columns)}, "
        f"content=\"{resource.name}\", tokenize='{FTS_TOKENIZER}')"
    )
    conn.execute(f"INSERT INTO {quote(name)}({quote(name)}) VALUES ('rebuild')")


def _build_info(conn: sqlite3.Connection, package: Package, counts: dict[str, int]) -> None:
    conn.execute("CREATE TABLE build_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    info = {
        "data_version": data_version(package),
        "built_at": build_time(),
        "git_commit": git_commit(package.root),
        "loader_version": __version__,
        "package_version": str(package.raw.get("version", "")),
        **{f"rows.{name}": str(n) for name, n in counts.items()},
    }
    conn.executemany("INSERT INTO build_info VALUES (?, ?)", sorted(info.items()))


def build(package: Package, target: Path, progress: Callable[[str], None] = print) -> dict[str, int]:
    """Write the database to `target`; the caller has validated the package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o644)
    counts: dict[str, int] = {}
    try:
        # Autocommit mode: the one transaction below is explicit, so that deferred
        # foreign keys (a partner's successor may come later in the file) hold throughout.
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN")
            conn.execute("PRAGMA defer_foreign_keys = ON")
            for resource in package.load_order():
                counts[resource.name] = _load_table(conn, package, resource, progress)
                progress(f"{resource.name}: {counts[resource.name]:,} rows")
            for resource in package.resources:
                _indexes(conn, resource)
                _fts(conn, resource)
            create_views(conn, package)
            _build_info(conn, package, counts)
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign key check failed after load: {broken[:5]}")
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
        finally:
            conn.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return counts
