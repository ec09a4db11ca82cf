"""Validate every CSV of the package and report every problem at once, as file:line: column: text.

Order: structural checks per file (encoding, delimiter, header, quoting), then
frictionless for types, constraints, primary and foreign keys on the files that are
structurally sound, then the checks Table Schema cannot express (dates that do not
exist, successor cycles, files nobody described).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

from frictionless import Package as FrictionlessPackage
from frictionless import system

from .filecheck import FileReport, check_file
from .problems import Problem
from .provenance import provenance_problems
from .schema import Package, Resource

TYPE_HINTS = {
    "integer": "a whole number such as 2024, without spaces or thousands separators",
    "number": "a number with a point as decimal separator, such as 5600 or 12.5 (no thousands separators)",
    "boolean": "one of the allowed values",
    "date": "a date written YYYY-MM-DD",
}


def validate(package: Package) -> list[Problem]:
    problems: list[Problem] = []
    reports: dict[str, FileReport] = {}
    for resource in package.resources:
        report = check_file(resource, package.root / resource.path, resource.path)
        reports[resource.name] = report
        problems.extend(report.problems)
    problems.extend(_undescribed_files(package))
    sound = [r for r in package.resources if reports[r.name].ok]
    problems.extend(_frictionless_problems(package, sound, reports))
    for resource in sound:
        problems.extend(_partial_date_problems(package, resource, reports[resource.name]))
        if resource.successor_of:
            problems.extend(_successor_cycles(package, resource, reports[resource.name]))
    problems.extend(provenance_problems(package, sound, reports))
    return sorted(set(problems))


def _undescribed_files(package: Package) -> list[Problem]:
    described = {str(Path(r.path)) for r in package.resources}
    folders = {Path(r.path).parent for r in package.resources}
    problems = []
    for folder in sorted(folders):
        for path in sorted((package.root / folder).glob("*")):
            relative = str(path.relative_to(package.root))
            if path.is_file() and relative not in described:
                problems.append(Problem(relative, 1, "(file)", "file is not described in datapackage.yaml; "
                                        "add a resource for it there or remove the file"))
    return problems


def _frictionless_descriptor(package: Package, sound: list[Resource]) -> dict[str, Any]:
    """The package limited to sound files; foreign keys into unsound files are dropped
    (those files already have their own error, and every reference into them would
    otherwise be reported as unknown)."""
    names = {r.name for r in sound}
    resources = []
    for raw in package.raw["resources"]:
        if raw["name"] not in names:
            continue
        raw = {**raw, "schema": dict(raw["schema"])}
        raw["schema"]["foreignKeys"] = [
            fk for fk in raw["schema"].get("foreignKeys") or []
            if (fk["reference"]["resource"] or raw["name"]) in names
        ]
        resources.append(raw)
    return {"name": package.raw.get("name", "package"), "resources": resources}


def _frictionless_problems(
    package: Package, sound: list[Resource], reports: dict[str, FileReport]
) -> list[Problem]:
    if not sound:
        return []
    with system.use_context(trusted=True):
        fpackage = FrictionlessPackage(_frictionless_descriptor(package, sound), basepath=str(package.root))
        report = fpackage.validate(limit_errors=10_000)
    problems = []
    by_name = {r.name: r for r in sound}
    for task in report.tasks:
        resource = by_name[task.name]
        for error in task.errors:
            problems.append(_translate(resource, reports[resource.name], error))
    return problems


def _translate(resource: Resource, report: FileReport, error: Any) -> Problem:
    row_number = getattr(error, "row_number", None) or 1
    line = report.line_of_record(row_number)
    kind = error.type
    note = getattr(error, "note", "") or ""
    cell = getattr(error, "cell", None)
    column = getattr(error, "field_name", None) or "(row)"
    if kind == "type-error":
        field = resource.field(column)
        expected = TYPE_HINTS.get(field.type, field.type)
        if field.type == "boolean":
            allowed = " or ".join(field.true_values + field.false_values)
            return Problem(resource.path, line, column, f"'{cell}' is not allowed; write {allowed}")
        return Problem(resource.path, line, column, f"'{cell}' is not {expected}; write {expected}")
    if kind == "constraint-error":
        return Problem(resource.path, line, column, _constraint_message(resource, column, cell, note))
    if kind == "primary-key":
        key = ",".join(resource.primary_key)
        match = re.search(r"row at position (\d+)", note)
        first = f" (line {report.line_of_record(int(match.group(1)))})" if match else ""
        values = ",".join(_cell_of(error, resource, name) for name in resource.primary_key)
        return Problem(resource.path, line, key, f"duplicate {key} '{values}': an earlier row{first} has the "
                       f"same; give every row its own {key}")
    if kind == "foreign-key":
        return _foreign_key_problem(resource, line, error, note)
    if kind == "unique-error":
        return Problem(resource.path, line, column, f"'{cell}' is not unique ({note}); change one of them")
    return Problem(resource.path, line, column, f"{error.message}")


def _constraint_message(resource: Resource, column: str, cell: Any, note: str) -> str:
    field = resource.field(column)
    constraints = field.raw.get("constraints") or {}
    if note.startswith('constraint "required"'):
        return "is empty but required; fill it in"
    if note.startswith('constraint "enum"'):
        return f"'{cell}' is not an allowed value; use one of: {', '.join(field.enum)}"
    if note.startswith('constraint "pattern"'):
        if field.partial_date:
            return f"'{cell}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"
        return f"'{cell}' has the wrong form; it must match the pattern {constraints.get('pattern')}"
    if note.startswith('constraint "maxLength"'):
        return (f"text is {len(str(cell))} characters, at most {constraints.get('maxLength')} are allowed; "
                "shorten it")
    if note.startswith('constraint "minimum"'):
        return f"{cell} is below the minimum {constraints.get('minimum')}; check the value"
    if note.startswith('constraint "maximum"'):
        return f"{cell} is above the maximum {constraints.get('maximum')}; check the value"
    return note


def _foreign_key_problem(resource: Resource, line: int, error: Any, note: str) -> Problem:
    names = list(getattr(error, "field_names", None) or [])
    values = [str(v) for v in (getattr(error, "field_cells", None) or [])]
    target_name = getattr(error, "reference_name", None) or resource.name
    column = ",".join(names) or "(row)"
    target = f"csv/{target_name}.csv"
    reference = ",".join(getattr(error, "reference_field_names", None) or [])
    return Problem(resource.path, line, column, f"'{','.join(values)}' does not exist in {target} ({reference}); "
                   "add that row there or correct the reference")


def _cell_of(error: Any, resource: Resource, name: str) -> str:
    cells = getattr(error, "cells", None) or []
    index = resource.field_names.index(name)
    return str(cells[index]) if index < len(cells) and cells[index] is not None else ""


def _rows(package: Package, resource: Resource) -> Any:
    with (package.root / resource.path).open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _partial_date_problems(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    date_fields = [f.name for f in resource.fields if f.partial_date]
    if not date_fields:
        return []
    problems = []
    for index, row in enumerate(_rows(package, resource), start=1):
        for name in date_fields:
            value = row.get(name) or ""
            if len(value) == 10 and value[4] == "-":
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    problems.append(Problem(resource.path, report.line_of_record(index + 1), name,
                                            f"'{value}' is not a date that exists; check day and month"))
            elif len(value) == 7 and value[4] == "-" and not 1 <= int(value[5:7] or 0) <= 12:
                problems.append(Problem(resource.path, report.line_of_record(index + 1), name,
                                        f"'{value}' has no month {value[5:7]}; write YYYY-MM with 01-12"))
    return problems


def _successor_cycles(package: Package, resource: Resource, report: FileReport) -> list[Problem]:
    assert resource.successor_of
    key, successor_column = resource.successor_of
    successor: dict[str, str] = {}
    lines: dict[str, int] = {}
    for index, row in enumerate(_rows(package, resource), start=1):
        if row.get(successor_column):
            successor[row[key]] = row[successor_column]
            lines[row[key]] = report.line_of_record(index + 1)
    problems = []
    reported: set[str] = set()
    for start in successor:
        chain = [start]
        current = successor.get(start)
        while current is not None and current not in chain:
            chain.append(current)
            current = successor.get(current)
        if current == start and start not in reported:
            reported.update(chain)
            problems.append(Problem(resource.path, lines[start], successor_column,
                                    f"successors form a cycle ({' -> '.join([*chain, start])}); "
                                    "a partner cannot (indirectly) succeed itself"))
    return problems
