"""Check every CSV of the package while its rows go into SQLite: one streaming pass per file, flat memory.

Each record is read once (filecheck.read_records: encoding, header, quoting, cell count, hidden characters),
checked cell by cell (rowcheck, provenance) and inserted. Keys are checked by the database, not by sets of every
key in Python: a duplicate primary key fails its INSERT (the row and the earlier one are named), and
`PRAGMA foreign_key_check` after the load lists every reference that leads nowhere. Each row is inserted with
rowid = its record number, so every finding maps back to a file, line and column. Problems of a file that is
not sound as a whole (its own structural message explains them) are not reported, nor references into it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from itertools import islice
from typing import Any

from sqlite_utils.db import Database, quote_identifier

from . import provenance
from .filecheck import FileReport, read_records
from .problems import Problem, shown
from .rowcheck import TYPED, RowChecker
from .schema import Package, Resource
from .tables import create_table_sql

BATCH = 5_000
PROGRESS_SECONDS = 5.0
Progress = Callable[[str], None]


class _Table:
    """One table being loaded: its statements, its batch of good rows and the problems found so far."""

    def __init__(self, db: Database, package: Package, resource: Resource, check_provenance: bool) -> None:
        self.db = db
        self.resource = resource
        self.report = FileReport()
        self.problems: list[Problem] = []
        self.cells = RowChecker(package, resource)
        self.provenance = provenance.row_checker(package, resource) if check_provenance else None
        names = ", ".join(["rowid", *(quote_identifier(n) for n in resource.field_names)])
        table = quote_identifier(resource.name)
        # An empty text cell becomes NULL in SQLite (NULLIF), not in a Python call per cell.
        fast = ", ".join("?" if f.type in TYPED else "NULLIF(?, '')" for f in resource.fields)
        self.insert = f"INSERT INTO {table} ({names}) VALUES (?, {fast})"
        # A row with problems goes in as written, so that its keys still count for duplicates and references;
        # an empty required cell as '' (its NOT NULL would refuse the row).
        raw = ", ".join("?" if f.required else "NULLIF(?, '')" for f in resource.fields)
        self.insert_as_written = f"INSERT INTO {table} ({names}) VALUES (?, {raw})"
        self.batch: list[list[Any]] = []

    def add(self, number: int, line: int, record: list[str]) -> None:
        found = self.cells.problems(record, line)
        if self.provenance is not None:
            found += self.provenance(record, line)
        if found:
            self.problems.extend(found)
            self.flush()
            self._insert(self.insert_as_written, [[number, *record]])
            return
        row = self.cells.cast(record)
        row.insert(0, number)
        self.batch.append(row)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self._insert(self.insert, self.batch)
        self.batch.clear()

    def _insert(self, sql: str, rows: list[list[Any]]) -> None:
        """executemany; a row the database refuses (a duplicate key) is reported and the rest go on."""
        conn = self.db.conn
        start = 0
        while start < len(rows):
            before = conn.total_changes
            try:
                conn.executemany(sql, islice(rows, start, None))
                return
            except sqlite3.IntegrityError as error:
                refused = start + conn.total_changes - before
                self.problems.append(self._refusal(rows[refused], error))
                start = refused + 1

    def _refusal(self, row: list[Any], error: sqlite3.IntegrityError) -> Problem:
        resource = self.resource
        line = self.report.line_of_record(row[0] + 1)
        key = ",".join(resource.primary_key)
        if not str(error).startswith("UNIQUE") or not key:
            return Problem(resource.path, line, "(row)", f"the database refuses this row: {error}; correct it")
        positions = [resource.field_names.index(c) + 1 for c in resource.primary_key]
        values = [row[i] for i in positions]
        where = " AND ".join(f"{quote_identifier(c)} IS ?" for c in resource.primary_key)
        earlier = self.db.execute(f"SELECT min(rowid) FROM {quote_identifier(resource.name)} WHERE {where}",
                                  [None if v == "" else v for v in values]).fetchone()[0]
        first = f" (line {self.report.line_of_record(earlier + 1)})" if earlier else ""
        shown_key = shown(",".join("" if v is None else str(v) for v in values))
        return Problem(resource.path, line, key, f"duplicate {key} '{shown_key}': an earlier row{first} has the "
                       f"same; give every row its own {key}")


def load_rows(db: Database, package: Package, progress: Progress | None = None) -> tuple[dict[str, int],
                                                                                        list[Problem]]:
    """Create every table and stream every file into it; (rows per table, every problem found).

    The caller holds the transaction and throws the database away when there are problems."""
    problems = provenance.descriptor_problems(package)
    check_provenance = not problems
    db.execute("PRAGMA ignore_check_constraints = ON")  # the enum CHECKs: rowcheck has checked them
    counts: dict[str, int] = {}
    reports: dict[str, FileReport] = {}
    sound: set[str] = set()
    for resource in package.resources:
        db.execute(create_table_sql(db, resource))
    for resource in package.resources:
        table = _Table(db, package, resource, check_provenance)
        counts[resource.name] = _stream(table, package, progress)
        reports[resource.name] = table.report
        problems.extend(table.report.problems)
        if table.report.ok:
            sound.add(resource.name)
            problems.extend(table.problems)
    db.execute("PRAGMA ignore_check_constraints = OFF")
    problems.extend(_foreign_key_problems(db, package, sound, reports))
    for resource in package.resources:
        if resource.name in sound:
            problems.extend(_link_cycles(db, resource, reports[resource.name]))
    return counts, problems


def _stream(table: _Table, package: Package, progress: Progress | None) -> int:
    resource = table.resource
    lines = table.report.record_lines
    started = last = time.monotonic()
    count = 0
    for line, record in read_records(resource, package.root / resource.path, resource.path, table.report,
                                     package.root):
        count += 1
        table.add(len(lines) - 1, line, record)
        if progress is not None and not count % BATCH and time.monotonic() - last > PROGRESS_SECONDS:
            last = time.monotonic()
            progress(f"  {resource.name}: {count:,} rows, {count / (last - started):,.0f} rows/s …")
    table.flush()
    seconds = time.monotonic() - started
    if progress is not None and seconds > PROGRESS_SECONDS:
        progress(f"{resource.name}: {count:,} rows in {seconds:,.1f} s, {count / seconds:,.0f} rows/s")
    return count


def _foreign_key_problems(db: Database, package: Package, sound: set[str],
                          reports: dict[str, FileReport]) -> list[Problem]:
    """Every reference must exist in the table it points to: PRAGMA foreign_key_check, read back as lines.
    References into a file that is not sound are not checked: that file has its own error, and every
    reference would otherwise be reported."""
    problems = []
    paths = {r.name: r.path for r in package.resources}
    for resource in package.resources:
        if resource.name not in sound or not resource.foreign_keys:
            continue
        table = quote_identifier(resource.name)
        declared: dict[int, list[str]] = {}
        for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            declared.setdefault(fk[0], []).append(fk[3])
        wanted = {(fk.resource, fk.fields): fk for fk in resource.foreign_keys}
        for _child, rowid, parent, fkid in db.execute(f"PRAGMA foreign_key_check({table})"):
            fk = wanted.get((parent, tuple(declared[fkid])))
            if fk is None or parent not in sound:
                continue
            columns = ", ".join(quote_identifier(c) for c in fk.fields)
            values = db.execute(f"SELECT {columns} FROM {table} WHERE rowid = ?", [rowid]).fetchone()
            problems.append(Problem(
                resource.path, reports[resource.name].line_of_record(rowid + 1), ",".join(fk.fields),
                f"'{shown(','.join(str(v) for v in values))}' does not exist in {paths[parent]} "
                f"({','.join(fk.reference_fields)}); add that row there or correct the reference"))
    return problems


def _link_cycles(db: Database, resource: Resource, report: FileReport) -> list[Problem]:
    """Every foreign key from a table into itself (successor_id, part_of_id, represents_id ...) must end
    somewhere: a row that is, directly or through other rows, its own successor or its own part would
    drop out of every total and every chain. Each cycle is named once, at its first line in the file.
    Only the rows that link are held in memory."""
    problems = []
    table = quote_identifier(resource.name)

    def line(key: str) -> int:
        first = db.execute(f"SELECT min(rowid) FROM {table} WHERE {quote_identifier(key_column)} = ?",
                           [key]).fetchone()[0]
        return report.line_of_record(first + 1) if first else 1

    for key_column, column in resource.self_links:
        target: dict[str, str] = dict(db.execute(
            f"SELECT {quote_identifier(key_column)}, {quote_identifier(column)} FROM {table} "
            f"WHERE {quote_identifier(column)} IS NOT NULL AND {quote_identifier(column)} != '' ORDER BY rowid"))
        done: set[str] = set()
        for start in target:
            path: dict[str, int] = {}
            current: str | None = start
            while current is not None and current not in done and current not in path:
                path[current] = len(path)
                current = target.get(current)
            if current is not None and current in path:
                cycle = list(path)[path[current]:]
                lines = {c: line(c) for c in cycle}
                first = min(range(len(cycle)), key=lambda i: lines[cycle[i]])
                cycle = cycle[first:] + cycle[:first]
                chain = " -> ".join(shown(c) for c in [*cycle, cycle[0]])
                problems.append(Problem(resource.path, lines[cycle[0]], column,
                                        f"{column} links form a cycle ({chain}); a row cannot refer to itself, "
                                        "directly or through other rows: correct or empty one of these cells"))
            done.update(path)
    return problems
