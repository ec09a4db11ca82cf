"""Prototype of the proposed loader change: the same validation without frictionless' row loop, streaming.

    .venv/bin/python -m bench.fastcheck --root bench/data/100 validate
    .venv/bin/python -m bench.fastcheck --root bench/data/100 build --output /tmp/x.db

Two changes against loaders/validate.py + loaders/filecheck.py, measured by bench/loader.py:

1. filecheck reads each file whole (`read_bytes`, `decode`, `io.StringIO`): peak memory grows with the
   largest CSV (~4 bytes per character in the StringIO buffer). Here the happy path streams the file line
   by line through the same record checks (`_check_header`, `_check_text`); on any structural problem it
   falls back to `check_file` itself, so every message stays exactly as it is.
2. frictionless checks types, constraints, primary and foreign keys row by row in generic Python code
   (~80% of validation time). Here each field gets one precompiled check (regex / set / bounds) and keys
   are checked with sets, in one pass per file, producing the same messages as validate._translate.

Not production code: loaders/ is untouched. The messages follow loaders/validate.py; `make test`'s bad-input
tests would have to pass against it before it replaces the frictionless step.
"""

from __future__ import annotations

import csv
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from loaders import validate as slow
from loaders.build import build as build_database
from loaders.filecheck import BOM, UTF16_BOMS, FileReport, _check_header, _check_text, check_file
from loaders.problems import Problem
from loaders.schema import Field, Package, Resource

INTEGER = r"[+-]?[0-9]+"
NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"


def streaming_check_file(resource: Resource, path: Path, display: str) -> FileReport:
    """check_file without holding the file in memory; any problem: check_file's own report."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return check_file(resource, path, display)
    if not head.strip() or head.startswith(UTF16_BOMS) or head.startswith(BOM):
        return check_file(resource, path, display)
    report = FileReport(record_lines=array("L"))
    state = {"line": 0, "crlf": False}

    def lines(f: Iterator[str]) -> Iterator[str]:
        for line in f:
            state["line"] += 1
            if line.endswith("\r\n"):
                state["crlf"] = True
                return
            yield line

    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(lines(f), strict=True)
            start = 1
            for record in reader:
                index = len(report.record_lines)
                report.record_lines.append(start)
                if index == 0:
                    if (";" in "".join(record) or "\t" in "".join(record)) and len(record) == 1:
                        return check_file(resource, path, display)
                    _check_header(record, resource.field_names, display, report.problems.append)
                elif not any(cell.strip() for cell in record) or len(record) != len(resource.fields):
                    return check_file(resource, path, display)
                else:
                    report.problems.extend(_check_text(resource, record, display, start))
                if report.problems:
                    return check_file(resource, path, display)
                start = state["line"] + 1
    except (UnicodeDecodeError, csv.Error):
        return check_file(resource, path, display)
    if state["crlf"] or len(report.record_lines) - 1 < resource.min_rows:
        return check_file(resource, path, display)
    return report


def _field_check(resource: Resource, f: Field) -> Callable[[str], str | None]:
    """A function from a non-empty cell to None or the message validate._translate would give."""
    import re

    c = f.raw.get("constraints") or {}
    pattern = re.compile(c["pattern"]) if "pattern" in c else None
    enum = set(f.enum)
    max_length, min_length = c.get("maxLength"), c.get("minLength")
    minimum, maximum = c.get("minimum"), c.get("maximum")
    booleans = set(f.true_values + f.false_values)
    typed = {"integer": re.compile(INTEGER), "number": re.compile(NUMBER)}.get(f.type)
    hint = slow.TYPE_HINTS.get(f.type, f.type)
    uri = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+[^\s]*") if f.raw.get("format") == "uri" else None

    def check(cell: str) -> str | None:
        if f.type == "boolean":
            allowed = " or ".join(f.true_values + f.false_values)
            return None if cell in booleans else f"'{cell}' is not allowed; write {allowed}"
        if uri is not None and not uri.fullmatch(cell):
            return f"'{cell}' is not {hint}; write {hint}"
        value: float | None = None
        if typed is not None:
            if not typed.fullmatch(cell):
                return f"'{cell}' is not {hint}; write {hint}"
            value = int(cell) if f.type == "integer" else float(cell)
        note = None
        if enum and cell not in enum:
            note = 'constraint "enum"'
        elif pattern is not None and not pattern.fullmatch(cell):
            note = 'constraint "pattern"'
        elif max_length is not None and len(cell) > max_length:
            note = 'constraint "maxLength"'
        elif min_length is not None and len(cell) < min_length:
            note = 'constraint "minLength"'
        elif value is not None and minimum is not None and value < minimum:
            note = 'constraint "minimum"'
        elif value is not None and maximum is not None and value > maximum:
            note = 'constraint "maximum"'
        return slow._constraint_message(resource, f.name, cell, note) if note else None

    return check


def row_problems(package: Package, sound: list[Resource], reports: dict[str, FileReport]) -> list[Problem]:
    """Types, constraints, primary and foreign keys: what frictionless checks, in one pass per file."""
    problems: list[Problem] = []
    names = {r.name for r in sound}
    keys: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
    wanted = {(fk.resource, fk.reference_fields) for r in sound for fk in r.foreign_keys if fk.resource in names}
    pending: list[tuple[Resource, int, tuple[str, ...], tuple[str, ...], str]] = []
    for resource in sound:
        report = reports[resource.name]
        checks = [_field_check(resource, f) for f in resource.fields]
        required = [f.required for f in resource.fields]
        index = {name: i for i, name in enumerate(resource.field_names)}
        pk = [index[c] for c in resource.primary_key]
        seen: dict[tuple[str, ...], int] = {}
        fks = [(fk, [index[c] for c in fk.fields]) for fk in resource.foreign_keys if fk.resource in names]
        own_keys = {ref: [index[c] for c in ref[1]] for ref in wanted if ref[0] == resource.name}
        for ref in own_keys:
            keys.setdefault(ref, set())
        with (package.root / resource.path).open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for row_number, record in enumerate(reader, start=2):
                line = report.line_of_record(row_number)
                for i, cell in enumerate(record):
                    if cell == "":
                        if required[i]:
                            problems.append(Problem(resource.path, line, resource.fields[i].name,
                                                    "is empty but required; fill it in"))
                        continue
                    message = checks[i](cell)
                    if message:
                        problems.append(Problem(resource.path, line, resource.fields[i].name, message))
                if pk:
                    key = tuple(record[i] for i in pk)
                    if key in seen:
                        k = ",".join(resource.primary_key)
                        first = f" (line {report.line_of_record(seen[key])})" if any(key) else ""
                        problems.append(Problem(resource.path, line, k, f"duplicate {k} '{','.join(key)}': an "
                                                f"earlier row{first} has the same; give every row its own {k}"))
                    else:
                        seen[key] = row_number
                for ref, positions in own_keys.items():
                    keys[ref].add(tuple(record[i] for i in positions))
                for fk, positions in fks:
                    value = tuple(record[i] for i in positions)
                    if all(value):
                        target = fk.resource + "|" + ",".join(fk.reference_fields)
                        pending.append((resource, line, fk.fields, value, target))
        del seen
    for resource, line, fields, value, target in pending:
        name, ref_fields = target.split("|")
        if value not in keys[(name, tuple(ref_fields.split(",")))]:
            problems.append(Problem(resource.path, line, ",".join(fields),
                                    f"'{','.join(value)}' does not exist in csv/{name}.csv ({ref_fields}); "
                                    "add that row there or correct the reference"))
    return problems


def fast_validate(package: Package) -> list[Problem]:
    problems: list[Problem] = []
    reports = {}
    for resource in package.resources:
        reports[resource.name] = streaming_check_file(resource, package.root / resource.path, resource.path)
        problems.extend(reports[resource.name].problems)
    problems.extend(slow._undescribed_files(package))
    sound = [r for r in package.resources if reports[r.name].ok]
    problems.extend(row_problems(package, sound, reports))
    for resource in sound:
        problems.extend(slow._partial_date_problems(package, resource, reports[resource.name]))
        if resource.successor_of:
            problems.extend(slow._successor_cycles(package, resource, reports[resource.name]))
    return sorted(set(problems))


@click.group()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    ctx.obj = Package.load(root)


def _check(package: Package) -> None:
    problems = fast_validate(package)
    for problem in problems[:50]:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)


@cli.command()
@click.pass_obj
def validate(package: Package) -> None:
    started = time.monotonic()
    _check(package)
    click.echo(f"OK in {time.monotonic() - started:.1f} s")


@cli.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def build(package: Package, output: Path) -> None:
    _check(package)
    build_database(package, output, progress=lambda _m: None)


if __name__ == "__main__":
    cli()
